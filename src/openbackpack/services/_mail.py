"""Sending mail: over SMTP, or into a local Maildir outbox (the default)."""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from openbackpack._exceptions import BackpackError
from openbackpack._settings import make_private_dir

__all__ = [
    "MailDeliveryError",
    "MaildirMailer",
    "Mailer",
    "SmtpMailer",
    "compose",
]


class MailDeliveryError(BackpackError):
    """A message could not be handed to the mail system."""


class Mailer(Protocol):
    """Something that delivers an email message."""

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` or raise :class:`MailDeliveryError`."""
        ...


def compose(sender: str, recipient: str, subject: str, body: str) -> EmailMessage:
    """Build a plain-text message with the headers every mail system expects."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="openbackpack.invalid")
    message.set_content(body)
    return message


@dataclass(frozen=True)
class MaildirMailer:
    """Delivers into a Maildir folder (``new/`` holds one file per message).

    Nothing leaves the machine; read the messages with any mail client, or programmatically
    with :meth:`messages`.
    """

    path: Path

    def send(self, message: EmailMessage) -> None:
        """Add ``message`` to the Maildir, creating it (and missing parents) on first use.

        Every directory created is private (0700): the mails carry verification codes.
        """
        try:
            _make_private_tree(self.path)
            box = mailbox.Maildir(self.path, create=True)
            box.add(message)
        except OSError as exc:
            raise MailDeliveryError(f"cannot write to the outbox {self.path}: {exc}") from None

    def messages(self) -> list[EmailMessage]:
        """Return every message delivered so far, oldest first."""
        if not self.path.exists():
            return []
        box = mailbox.Maildir(self.path, create=False)
        found = [(msg.get_date(), msg) for msg in box]
        found.sort(key=lambda pair: pair[0])
        return [_as_email(msg) for _, msg in found]


def _make_private_tree(path: Path) -> None:
    # On a fresh machine even the data directory is missing, and Maildir creates only the
    # leaf (0700, with its tmp/new/cur, and only when the leaf is missing): make the parents.
    missing = [p for p in path.parents if not p.exists()]
    for directory in reversed(missing):
        make_private_dir(directory)


def _as_email(message: mailbox.MaildirMessage) -> EmailMessage:
    from email import message_from_bytes
    from email.policy import default

    parsed = message_from_bytes(message.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@dataclass(frozen=True)
class SmtpMailer:
    """Delivers over SMTP, with optional STARTTLS and login."""

    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    def send(self, message: EmailMessage) -> None:
        """Send ``message``; any SMTP or network failure becomes :class:`MailDeliveryError`."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailDeliveryError(
                f"cannot send mail through {self.host}:{self.port}: {exc}"
            ) from None
