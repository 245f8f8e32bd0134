"""Connecting v1/v2 backpacks end to end over loopback: v1 by email alone, a fresh machine."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from openbackpack import AuthenticationError
from openbackpack.cli import app
from openbackpack.client import BackpackClient
from openbackpack.host import RunningHost
from openbackpack.host import _schema as host_schema
from openbackpack.services import (
    MaildirMailer,
    add_backpack,
    list_collections,
    start_connection,
    verify_connection,
)
from openbackpack.store import SITE_OWNER, Secret

from ..store.conftest import snapshot
from .conftest import (
    FAST,
    ISSUER_EMAIL,
    ISSUER_PASSWORD,
    LEARNER,
    LEARNER_EMAIL,
    LEARNER_PASSWORD,
    Hosts,
    Site,
)

runner = CliRunner()


def _v1(site: Site, hosts: Hosts) -> int:
    return add_backpack(
        site.store, hosts.primary.base_url, hosts.primary.base_url + "/v1web", "1"
    ).id


def _code(outbox: MaildirMailer) -> str:
    found = re.search(r"verification code is: (\S+)", outbox.messages()[-1].get_content())
    assert found is not None
    return found.group(1)


def test_v1_connect_and_verify_need_no_password(site: Site, hosts: Hosts) -> None:
    """A v1 backpack connects with the email only; the account gets the Displayer user id."""
    provider_id = _v1(site, hosts)
    start_connection(site.store, LEARNER, provider_id, LEARNER_EMAIL, mailer=site.outbox)
    account = verify_connection(site.store, LEARNER, _code(site.outbox))
    assert account.email == LEARNER_EMAIL
    assert account.remote_user_id is not None
    assert account.remote_user_id.isdigit()
    assert list_collections(site.store, LEARNER, provider_id) == []


def test_v1_unknown_email_is_refused_before_anything_is_stored(site: Site, hosts: Hosts) -> None:
    """An email the Displayer does not know raises AuthenticationError and mails nothing."""
    provider_id = _v1(site, hosts)
    with pytest.raises(AuthenticationError, match=r"nobody@example\.org"):
        start_connection(site.store, LEARNER, provider_id, "nobody@example.org", mailer=site.outbox)
    assert site.outbox.messages() == []


def test_cli_connects_a_v1_backpack_without_asking_for_a_password(
    site: Site, hosts: Hosts, tmp_path: Path, secret_key: str
) -> None:
    """`connect` on a v1 backpack prompts for nothing and `verify` finishes the connection."""
    provider_id = _v1(site, hosts)
    env = {
        "OPENBACKPACK_DB": site.store.engine.url.render_as_string(hide_password=False),
        "OPENBACKPACK_SECRET_KEY": secret_key,
        "OPENBACKPACK_OUTBOX": str(tmp_path / "v1-outbox"),
    }
    args = ["connect", "--user", LEARNER, "--backpack", str(provider_id), "--email", LEARNER_EMAIL]
    result = runner.invoke(app, args, env=env, input="")
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output
    code = _code(MaildirMailer(tmp_path / "v1-outbox"))
    result = runner.invoke(app, ["verify", "--user", LEARNER, code], env=env)
    assert result.exit_code == 0, result.output
    assert f"connected {LEARNER_EMAIL}" in result.output


def test_cli_connect_on_a_fresh_machine_creates_the_outbox(
    site: Site, tmp_path: Path, secret_key: str
) -> None:
    """With no data directory yet, `connect` creates it and the outbox, and mails the code."""
    data_home = tmp_path / "never-created"
    env = {
        "OPENBACKPACK_DB": site.store.engine.url.render_as_string(hide_password=False),
        "OPENBACKPACK_SECRET_KEY": secret_key,
        "XDG_DATA_HOME": str(data_home),
        "OPENBACKPACK_OUTBOX": "",
    }
    args = ["connect", "--user", LEARNER, "--backpack", str(site.primary_id)]
    args += ["--email", LEARNER_EMAIL, "--password", LEARNER_PASSWORD]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    outbox = data_home / "openbackpack" / "outbox"
    assert _code(MaildirMailer(outbox))


def test_site_and_learner_passwords_come_from_separate_variables(
    site: Site, hosts: Hosts, tmp_path: Path, secret_key: str
) -> None:
    """`backpacks edit` reads OPENBACKPACK_SITE_PASSWORD; `connect` the LEARNER_ variable."""
    env = {
        "OPENBACKPACK_DB": site.store.engine.url.render_as_string(hide_password=False),
        "OPENBACKPACK_SECRET_KEY": secret_key,
        "OPENBACKPACK_OUTBOX": str(tmp_path / "outbox"),
        "OPENBACKPACK_SITE_PASSWORD": ISSUER_PASSWORD,
        "OPENBACKPACK_LEARNER_PASSWORD": LEARNER_PASSWORD,
        "OPENBACKPACK_BACKPACK_PASSWORD": "no-longer-read",
    }
    edit = ["backpacks", "edit", str(site.other_id), "--email", ISSUER_EMAIL]
    result = runner.invoke(app, edit, env=env)
    assert result.exit_code == 0, result.output
    with site.store.transaction() as tx:
        site_account = tx.accounts.find(SITE_OWNER, site.other_id)
    assert site_account is not None
    assert site_account.password == Secret(ISSUER_PASSWORD)
    connect = ["connect", "--user", LEARNER, "--backpack", str(site.primary_id)]
    result = runner.invoke(app, [*connect, "--email", LEARNER_EMAIL], env=env, input="")
    assert result.exit_code == 0, result.output
    with site.store.transaction() as tx:
        (pending,) = tx.verifications.find(LEARNER)
    assert pending.password == Secret(LEARNER_PASSWORD)


class _CountTokenRequests(httpx2.HTTPTransport):
    """Real HTTP that counts the token requests (logins) it carries."""

    def __init__(self) -> None:
        super().__init__()
        self.logins = 0

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/o/token"):
            self.logins += 1
        return super().handle_request(request)


def _live_tokens(host: RunningHost) -> int:
    with host.database.engine.connect() as connection:
        count = connection.scalar(
            select(func.count())
            .select_from(host_schema.tokens)
            .where(host_schema.tokens.c.expires_at > datetime.now(UTC))
        )
    return int(count or 0)


def test_connect_and_verify_log_in_once_and_reuse_the_token(site: Site, hosts: Hosts) -> None:
    """Connecting logs in once; verifying caches that token; the host has one new live token."""
    live_before = _live_tokens(hosts.primary)
    transport = _CountTokenRequests()
    with BackpackClient(transport=transport, retry=FAST) as client:
        start_connection(
            site.store, LEARNER, site.primary_id, LEARNER_EMAIL, LEARNER_PASSWORD,
            mailer=site.outbox, client=client,
        )  # fmt: skip
        with site.store.transaction() as tx:
            (pending,) = tx.verifications.find(LEARNER)
        assert pending.login is not None
        assert pending.login.access_token.reveal() not in str(snapshot(site.store))
        account = verify_connection(site.store, LEARNER, _code(site.outbox), client=client)
        with site.store.transaction() as tx:
            cached = tx.token_cache.get(account.id)
        assert cached is not None
        assert cached.access_token == pending.login.access_token
        list_collections(site.store, LEARNER, site.primary_id, client=client)
    assert transport.logins == 1
    assert _live_tokens(hosts.primary) - live_before == 1


def test_verify_needs_no_request_to_the_host(site: Site, hosts: Hosts) -> None:
    """A host that fails every request after the login check still lets the account be saved."""
    start_connection(
        site.store, LEARNER, site.primary_id, LEARNER_EMAIL, LEARNER_PASSWORD, mailer=site.outbox
    )
    hosts.primary.faults.fail_next(1000, 503)
    try:
        with BackpackClient(retry=FAST) as client:
            account = verify_connection(site.store, LEARNER, _code(site.outbox), client=client)
    finally:
        hosts.primary.faults.fail_next(0)
    with site.store.transaction() as tx:
        assert tx.accounts.get(account.id).email == LEARNER_EMAIL
        assert tx.token_cache.get(account.id) is not None
        assert tx.verifications.find(LEARNER) == []
