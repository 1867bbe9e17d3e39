"""CSV files in and out: formulas neutralised on the way out, any spreadsheet's
"Save as CSV" read on the way in.

Every CSV the portal writes goes through :func:`writer`; every CSV it reads
through :func:`read_table`. Neither knows what the columns mean.
"""

import codecs
import csv
import io

# OWASP's rule for CSV injection: a cell that starts with one of these is read by
# spreadsheets as a formula (=HYPERLINK(...), +cmd|..., @SUM(...)), so it is
# written with a leading apostrophe, which shows the text as typed.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# A bulk-shipping cell is an order number, a carrier code or a tracking number;
# a few hundred characters is already absurd, and csv's own limit is 128 KB.
MAX_CELL = 1000


def safe_cell(value):
    """``value`` as a spreadsheet should show it: text that would run as a formula is
    prefixed with ``'``; numbers pass as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, buffer):
        self._writer = csv.writer(buffer)

    def writerow(self, row):
        return self._writer.writerow([safe_cell(cell) for cell in row])


def writer(buffer) -> _SafeWriter:
    """A ``csv.writer`` whose every cell goes through :func:`safe_cell`."""
    return _SafeWriter(buffer)


class BadFile(ValueError):
    """The upload is not a CSV the portal can read; the message says what to fix."""


def _decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without Excel's BOM) or UTF-16 (with or without one)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif len(data) >= 4 and data[1::2][:32].count(0) > len(data[1::2][:32]) // 2:
        encoding = "utf-16-le"  # "Unicode text" without a BOM: every other byte is NUL
    elif len(data) >= 4 and data[0::2][:32].count(0) > len(data[0::2][:32]) // 2:
        encoding = "utf-16-be"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise BadFile("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.") from None
    if "\0" in text:
        raise BadFile("The file has NUL characters in it: it is not a CSV text file. "
                      "Save it as “CSV UTF-8” and try again.")
    return text


def read_table(data: bytes, *, max_cell: int = MAX_CELL) -> list[tuple[int, list[str]]]:
    """The file's rows as (line number, stripped cells), blank rows left out.

    Any line ending is read (Windows CRLF, Unix LF, and the old Mac's CR that
    Excel's "CSV (Macintosh)" still writes). Raises :class:`BadFile` with a message
    for a file that is not text, not CSV, or has a cell longer than ``max_cell``.
    """
    text = _decode(data)
    rows = []
    # newline="": the csv module then takes \r, \n and \r\n as line ends itself.
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0  # the row as a spreadsheet numbers it (a quoted cell may span lines)
    try:
        for number, cells in enumerate(reader, start=1):
            if any(len(cell) > max_cell for cell in cells):
                raise BadFile(f"Row {number} has a cell longer than {max_cell:,} "
                              "characters; is this the right file?")
            cells = [cell.strip() for cell in cells]
            if any(cells):
                rows.append((number, cells))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):  # csv's own 128 KB limit
            raise BadFile(f"Row {number + 1} has a cell longer than {max_cell:,} characters; "
                          "is this the right file?") from None
        raise BadFile(f"Row {number + 1} is not valid CSV ({exc}).") from None
    return rows
