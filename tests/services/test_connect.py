"""Connecting a backpack with email verification, and testing the site connection."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from openbackpack import AuthenticationError, InvalidInputError, UnsupportedActionError
from openbackpack.services import (
    EmailTemplate,
    ExternalBackpacksDisabledError,
    VerificationError,
    cancel_connection,
    check_backpack_connection,
    edit_backpack,
    resend_verification,
    set_site_setting,
    start_connection,
    verify_connection,
)
from openbackpack.store import Secret

from ..store.conftest import snapshot
from .conftest import LEARNER, LEARNER_EMAIL, LEARNER_PASSWORD, Site


def _code(site: Site) -> str:
    body = site.outbox.messages()[-1].get_content()
    found = re.search(r"verification code is: (\S+)", body)
    assert found is not None
    return found.group(1)


def _start(site: Site, password: str = LEARNER_PASSWORD) -> None:
    start_connection(
        site.store, LEARNER, site.primary_id, LEARNER_EMAIL, password, mailer=site.outbox
    )


def test_wrong_password_is_refused_before_anything_is_stored(site: Site) -> None:
    """A login the backpack refuses raises AuthenticationError, sends no mail, stores nothing."""
    before = snapshot(site.store)
    with pytest.raises(AuthenticationError, match="Invalid credentials"):
        _start(site, "wrong")
    assert snapshot(site.store) == before
    assert site.outbox.messages() == []


def test_code_from_the_mail_connects_the_account(site: Site) -> None:
    """The mailed code saves the account with a sealed password and a cached token."""
    _start(site)
    message = site.outbox.messages()[0]
    assert message["To"] == LEARNER_EMAIL
    assert LEARNER_PASSWORD not in message.get_content()
    account = verify_connection(site.store, LEARNER, _code(site))
    assert account.email == LEARNER_EMAIL
    assert account.password == Secret(LEARNER_PASSWORD)
    with site.store.transaction() as tx:
        assert tx.verifications.find(LEARNER) == []
        assert tx.token_cache.get(account.id) is not None


def test_wrong_code_keeps_the_pending_connection(site: Site) -> None:
    """A wrong code raises VerificationError; the right one still works afterwards."""
    _start(site)
    with pytest.raises(VerificationError, match="does not match"):
        verify_connection(site.store, LEARNER, "not-the-code")
    assert verify_connection(site.store, LEARNER, _code(site)).email == LEARNER_EMAIL


def test_resend_replaces_the_code(site: Site) -> None:
    """A resent mail carries a new code; the old one no longer matches."""
    _start(site)
    old = _code(site)
    resend_verification(site.store, LEARNER, mailer=site.outbox)
    new = _code(site)
    assert new != old
    with pytest.raises(VerificationError):
        verify_connection(site.store, LEARNER, old)
    verify_connection(site.store, LEARNER, new)


def test_cancel_starts_over(site: Site) -> None:
    """Cancelling forgets the pending connection, so its code is refused."""
    _start(site)
    assert cancel_connection(site.store, LEARNER) == 1
    with pytest.raises(VerificationError, match="no pending"):
        verify_connection(site.store, LEARNER, _code(site))


def test_expired_code_is_refused_and_forgotten(site: Site) -> None:
    """A code past its expiry raises VerificationError and the pending row is removed."""
    with site.store.transaction() as tx:
        _, code = tx.verifications.create(
            LEARNER, site.primary_id, LEARNER_EMAIL, LEARNER_PASSWORD, ttl=timedelta(seconds=-1)
        )
    with pytest.raises(VerificationError, match="expired"):
        verify_connection(site.store, LEARNER, code)
    with site.store.transaction() as tx:
        assert tx.verifications.find(LEARNER) == []


def test_badge_connect_provider_is_refused_for_email_connection(site: Site) -> None:
    """The chosen provider's version is checked (W13): 2.1 needs OAuth, not a password."""
    edit_backpack(site.store, site.other_id, api_version="2.1")
    with pytest.raises(UnsupportedActionError, match="OAuth"):
        start_connection(
            site.store, LEARNER, site.other_id, LEARNER_EMAIL, "pw", mailer=site.outbox
        )


def test_disabled_external_backpacks_refuse_connections(site: Site) -> None:
    """With external backpacks switched off, connecting raises a clear error."""
    with site.store.transaction() as tx:
        tx.settings.update(allow_external_backpacks=False)
    with pytest.raises(ExternalBackpacksDisabledError):
        _start(site)


def test_site_connection_test_reports_success_and_the_backpacks_reason(site: Site) -> None:
    """The connection test logs in with the site account and passes on the refusal text."""
    assert check_backpack_connection(site.store, site.primary_id).ok
    edit_backpack(site.store, site.primary_id, password="wrong")
    result = check_backpack_connection(site.store, site.primary_id)
    assert not result.ok
    assert "Invalid credentials" in result.message
    missing = check_backpack_connection(site.store, site.other_id)
    assert not missing.ok
    assert "no site account" in missing.message


def test_default_verification_mail_names_no_command(site: Site) -> None:
    """The built-in mail carries the code and plain instructions, and no CLI command."""
    _start(site)
    message = site.outbox.messages()[-1]
    body = message.get_content()
    assert re.search(r"verification code is: \S+", body)
    assert "openbackpack" not in body
    assert "verify --user" not in body
    assert "enter this code where you asked for the connection" in body
    assert message["Subject"] == "Badges backpack email verification"


def test_platform_template_and_link_are_used(site: Site) -> None:
    """A template passed by the platform gets the code, and a link with the code URL-encoded."""
    template = EmailTemplate(
        subject="Example LMS: confirm $email",
        body="Code $code.\nLink: $url\n$instructions\nValid $hours h for $backpack.\n",
    )
    start_connection(
        site.store, LEARNER, site.primary_id, LEARNER_EMAIL, LEARNER_PASSWORD,
        mailer=site.outbox, template=template,
        verify_url="https://lms.example/badges/verify?code=$code",
    )  # fmt: skip
    message = site.outbox.messages()[-1]
    body = message.get_content()
    code = re.search(r"Code (\S+)\.", body)
    assert code is not None
    assert message["Subject"] == f"Example LMS: confirm {LEARNER_EMAIL}"
    assert f"Link: https://lms.example/badges/verify?code={code.group(1)}" in body
    assert "To confirm, open this link: https://lms.example/" in body
    assert "Valid 24 h" in body
    verify_connection(site.store, LEARNER, code.group(1))


def test_stored_template_is_used_when_the_platform_passes_none(site: Site) -> None:
    """The site's stored subject and body replace the built-in text, for resends too."""
    set_site_setting(site.store, "verification_email_subject", "Confirm your backpack")
    set_site_setting(site.store, "verification_email_body", "Your code: $code ($url)\n")
    _start(site)
    resend_verification(
        site.store, LEARNER, mailer=site.outbox, verify_url="https://lms.example/v/$code"
    )
    first, second = site.outbox.messages()[-2:]
    assert first["Subject"] == second["Subject"] == "Confirm your backpack"
    assert re.fullmatch(r"Your code: \S+ \(\)\n", first.get_content())
    found = re.fullmatch(
        r"Your code: (\S+) \(https://lms.example/v/(\S+)\)\n", second.get_content()
    )
    assert found is not None
    assert found.group(1) == found.group(2)


def test_a_template_with_an_unknown_placeholder_is_refused() -> None:
    """EmailTemplate names the unknown placeholder instead of failing when a mail is sent."""
    with pytest.raises(InvalidInputError, match=r"\$link"):
        EmailTemplate(subject="Hi", body="Open $link")


def test_code_typed_in_lower_case_with_spaces_still_matches(site: Site) -> None:
    """The code's alphabet has one case, so a code typed in lower case with spaces works."""
    _start(site)
    code = _code(site)
    assert not code.startswith("-")
    typed = " ".join([code[:5].lower(), code[5:]])
    assert verify_connection(site.store, LEARNER, typed).email == LEARNER_EMAIL
