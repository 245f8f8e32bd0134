"""Mail delivery: the Maildir outbox and SMTP against a real server on loopback."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from openbackpack.services import MailDeliveryError, MaildirMailer, SmtpMailer, compose


class _Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, _Inbox]]:
    inbox = _Inbox()
    # aiosmtpd checks readiness by connecting to the port it was given, so port 0 cannot
    # work: ask the kernel for a free port first.
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def _free_port() -> int:
    from openbackpack.serve import bind_socket

    with bind_socket() as sock:
        port: int = sock.getsockname()[1]
    return port


def _message() -> EmailMessage:
    return compose("noreply@example.org", "learner@example.org", "Verify", "Your code: 1234")


def test_maildir_outbox_keeps_each_message(tmp_path: Path) -> None:
    """Messages sent to the Maildir outbox can be read back, in order, with their headers."""
    mailer = MaildirMailer(tmp_path / "outbox")
    mailer.send(_message())
    mailer.send(compose("noreply@example.org", "other@example.org", "Second", "two"))
    messages = mailer.messages()
    assert [m["Subject"] for m in messages] == ["Verify", "Second"]
    assert "Your code: 1234" in messages[0].get_content()
    assert (tmp_path / "outbox" / "new").is_dir()


def test_maildir_outbox_that_cannot_be_written_raises(tmp_path: Path) -> None:
    """A Maildir path that is a file raises MailDeliveryError naming the outbox."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(MailDeliveryError, match="outbox"):
        MaildirMailer(blocker).send(_message())


def test_smtp_delivers_to_a_real_server(smtp_server: tuple[Controller, _Inbox]) -> None:
    """SmtpMailer hands the message to an SMTP server on loopback with the right envelope."""
    controller, inbox = smtp_server
    SmtpMailer(host="127.0.0.1", port=controller.port).send(_message())
    assert len(inbox.received) == 1
    sender, recipients, content = inbox.received[0]
    assert sender == "noreply@example.org"
    assert recipients == ["learner@example.org"]
    assert b"Your code: 1234" in content


def test_smtp_failure_is_a_typed_error() -> None:
    """An unreachable SMTP server raises MailDeliveryError, not a socket error."""
    port = _free_port()  # nothing listens there any more
    with pytest.raises(MailDeliveryError, match="cannot send mail"):
        SmtpMailer(host="127.0.0.1", port=port, timeout=2).send(_message())


def test_smtp_mailer_repr_hides_the_password() -> None:
    """The SMTP password never shows in the mailer's repr."""
    assert "hunter2" not in repr(SmtpMailer(host="h", username="u", password="hunter2"))


def test_outbox_is_created_with_its_missing_parents_privately(tmp_path: Path) -> None:
    """On a fresh machine the outbox and every missing parent are created, each mode 0700."""
    outbox = tmp_path / "fresh" / "data" / "outbox"
    mailer = MaildirMailer(outbox)
    mailer.send(compose("a@example.org", "b@example.org", "Code", "123"))
    assert [m["Subject"] for m in mailer.messages()] == ["Code"]
    for directory in (tmp_path / "fresh", tmp_path / "fresh" / "data", outbox):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
