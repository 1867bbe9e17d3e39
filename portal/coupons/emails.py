"""One mailbox, however its address is spelt: what "once per buyer" counts by, beside
the account, so a second account on the same mailbox does not get a coupon again.

The rules applied, and why each is safe:

- **case**: the whole address is lower-cased. RFC 5321 lets a server treat the
  local part case-sensitively; no mailbox provider in use does.
- **+tags** (``ada+shop@...`` is ``ada@...``): dropped for every domain. Gmail,
  Google Workspace, Outlook.com/Hotmail/Live, iCloud, Fastmail, Proton, Yahoo (for
  its own "+" since 2023) and the default set-up of Postfix and Exim all deliver
  ``+tag`` mail to the base mailbox. Where a server does not, merging two real
  mailboxes only makes a per-buyer limit stricter for them, never looser.
- **dots** (``a.da@gmail.com`` is ``ada@gmail.com``): dropped only for Gmail
  (``gmail.com`` and its old name ``googlemail.com``, which is the same mailbox),
  the provider that documents dots as insignificant. Elsewhere dots are part of
  the name (``j.smith@outlook.com`` and ``jsmith@outlook.com`` are two people).
"""

GMAIL = {"gmail.com", "googlemail.com"}


def mailbox(email: str) -> str:
    """The normalised address: ``"A.Da+promo@GoogleMail.com"`` -> ``"ada@gmail.com"``."""
    email = (email or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return email
    local = local.split("+", 1)[0] or local
    if domain in GMAIL:
        domain = "gmail.com"
        local = local.replace(".", "") or local
    return f"{local}@{domain}"[:254]
