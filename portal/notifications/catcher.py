"""A development mail catcher: an SMTP server on loopback that keeps nothing and sends
nothing, but writes each e-mail it receives (headers and the plain-text part) to a log
file, so a newcomer running ``make run`` reads the portal's e-mails in
``instance/mail.log``. ``flask --app portal mail-catcher`` runs it; never in production.
"""

import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import click
from aiosmtpd.controller import Controller

SHOWN = ("Date", "From", "To", "Subject", "List-Unsubscribe")


class _Writer:
    def __init__(self, log_file: Path):
        self.log_file = log_file
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        mail = message_from_bytes(envelope.content, policy=policy.default)
        body = mail.get_body(("plain", "html"))
        lines = [f"{name}: {mail[name]}" for name in SHOWN if mail[name]]
        text = body.get_content() if body is not None else ""
        with self.lock, self.log_file.open("a", encoding="utf-8") as out:
            out.write("=" * 72 + "\n" + "\n".join(lines) + "\n\n" + text.rstrip() + "\n\n")
        return "250 OK"


def start(host: str, port: int, log_file: Path) -> Controller:
    """Start catching on ``host:port`` in a thread; ``.stop()`` the result to end it."""
    log_file = Path(log_file)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    controller = Controller(_Writer(log_file), hostname=host, port=port)
    controller.start()
    return controller


@click.command("mail-catcher")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True)
@click.option("--log", "log_file", default="instance/mail.log", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path))
def mail_catcher_command(host: str, port: int, log_file: Path):
    """Catch the portal's e-mails (development): point PORTAL_SMTP_URL at it."""
    controller = start(host, port, log_file)
    click.echo(f"Catching e-mail on smtp://{host}:{port}; each one is written to {log_file}.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
