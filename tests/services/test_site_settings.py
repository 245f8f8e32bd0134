"""The site settings: the external-backpacks switch on every flow, defaults, and the command."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openbackpack import InvalidInputError
from openbackpack.cli import app
from openbackpack.client import BackpackClient
from openbackpack.services import (
    ExternalBackpacksDisabledError,
    add_backpack,
    begin_oauth_connection,
    check_backpack_connection,
    complete_oauth_connection,
    disconnect,
    edit_backpack,
    external_badges,
    list_backpacks,
    list_collections,
    move_backpack,
    push_award,
    push_awards,
    remove_backpack,
    resend_verification,
    select_collections,
    set_site_setting,
    site_settings,
    start_connection,
    verify_connection,
)

from ..store.conftest import snapshot
from .conftest import (
    ISSUER_BASE,
    LEARNER,
    LEARNER_EMAIL,
    LEARNER_PASSWORD,
    Hosts,
    Site,
    award,
    connect,
)

runner = CliRunner()


def _switch_off(site: Site) -> None:
    with site.store.transaction() as tx:
        tx.settings.update(allow_external_backpacks=False)


def _gated_calls(site: Site, hosts: Hosts) -> dict[str, Callable[[], object]]:
    store, mail = site.store, site.outbox
    hashed = award(site)
    return {
        "start_connection": lambda: start_connection(
            store, "learner-2", site.other_id, LEARNER_EMAIL, LEARNER_PASSWORD, mailer=mail
        ),
        "resend_verification": lambda: resend_verification(store, LEARNER, mailer=mail),
        "verify_connection": lambda: verify_connection(store, LEARNER, "CODE"),
        "begin_oauth_connection": lambda: begin_oauth_connection(
            store, LEARNER, site.other_id, "http://127.0.0.1:9/cb"
        ),
        "complete_oauth_connection": lambda: complete_oauth_connection(store, "state", "code"),
        "list_collections": lambda: list_collections(store, LEARNER),
        "select_collections": lambda: select_collections(store, LEARNER, ["x"]),
        "external_badges": lambda: external_badges(store, LEARNER, refresh=True),
        "push_award": lambda: push_award(store, LEARNER, hashed, issuer_base_url=ISSUER_BASE),
        "push_awards": lambda: push_awards(store, LEARNER, [hashed], issuer_base_url=ISSUER_BASE),
        "add_backpack": lambda: add_backpack(
            store, hosts.other.api_url + "/x", hosts.other.base_url + "/x", "2"
        ),
        "edit_backpack": lambda: edit_backpack(store, site.other_id, web_url="https://e.org/w"),
        "remove_backpack": lambda: remove_backpack(store, site.other_id),
        "move_backpack": lambda: move_backpack(store, site.other_id, "up"),
        "check_backpack_connection": lambda: check_backpack_connection(store, site.primary_id),
    }


def test_switching_external_backpacks_off_gates_every_flow_but_disconnect(
    site: Site, hosts: Hosts, client: BackpackClient
) -> None:
    """Every learner flow and admin action raises the typed error and changes nothing."""
    connect(site, site.primary_id)
    start_connection(
        site.store, LEARNER, site.other_id, LEARNER_EMAIL, LEARNER_PASSWORD, mailer=site.outbox
    )
    calls = _gated_calls(site, hosts)
    _switch_off(site)
    before = snapshot(site.store)
    mails = len(site.outbox.messages())
    refused = []
    for name, call in calls.items():
        with pytest.raises(ExternalBackpacksDisabledError, match="switched off") as caught:
            call()
        assert isinstance(caught.value, PermissionError)
        refused.append(name)
    assert refused == list(calls)
    assert snapshot(site.store) == before
    assert len(site.outbox.messages()) == mails
    assert [b.id for b in list_backpacks(site.store)] == [site.primary_id, site.other_id]
    disconnect(site.store, LEARNER, site.primary_id, acting_user=LEARNER, client=client)
    with site.store.transaction() as tx:
        assert tx.accounts.list(owner=LEARNER) == []


def test_set_site_setting_parses_values_and_refuses_bad_ones(site: Site) -> None:
    """Text values are parsed per key; a bad key or value raises and stores nothing."""
    changed = set_site_setting(site.store, "allow_external_backpacks", "no")
    assert not changed.allow_external_backpacks
    assert set_site_setting(site.store, "allow_external_backpacks", "TRUE").allow_external_backpacks
    assert set_site_setting(site.store, "default_issuer_name", "Example U").default_issuer_name
    before = snapshot(site.store)
    bad = [
        ("badge_salt", "x", "unknown setting"),
        ("allow_external_backpacks", "maybe", "true or false"),
        ("default_issuer_contact", "not-an-email", "email"),
        ("verification_email_body", "code $kode", r"\$kode"),
        ("verification_email_body", "costs $", "valid template"),
        ("verification_email_subject", "two\nlines", "one line"),
    ]
    for key, value, message in bad:
        with pytest.raises(InvalidInputError, match=message):
            set_site_setting(site.store, key, value)
    assert snapshot(site.store) == before


def test_issuers_without_name_or_contact_take_the_site_defaults(site: Site) -> None:
    """As Moodle's default issuer: name and contact come from the settings, else it refuses."""
    with (
        site.store.transaction() as tx,
        pytest.raises(InvalidInputError, match="default_issuer_contact"),
    ):
        tx.issuers.create(None, "https://example.org", None)
    set_site_setting(site.store, "default_issuer_name", "Example Academy")
    set_site_setting(site.store, "default_issuer_contact", "badges@example.org")
    with site.store.transaction() as tx:
        issuer = tx.issuers.create(None, "https://example.org", None)
        named = tx.issuers.create("Own name", "https://example.org", "own@example.org")
    assert (issuer.name, issuer.email) == ("Example Academy", "badges@example.org")
    assert (named.name, named.email) == ("Own name", "own@example.org")


def test_site_account_email_defaults_to_the_default_issuer_contact(
    site: Site, hosts: Hosts
) -> None:
    """A v2 site account given only a password uses default_issuer_contact as its email."""
    set_site_setting(site.store, "default_issuer_contact", "issuer@example.org")
    added = add_backpack(
        site.store,
        hosts.other.api_url + "/v2b",
        hosts.other.base_url + "/web2",
        "2",
        password="pw",
    )
    assert added.site_account is not None
    assert added.site_account.email == "issuer@example.org"


def test_settings_command_shows_sets_and_gates_the_learner_commands(
    site: Site, tmp_path: Path, secret_key: str
) -> None:
    """`settings set` switches backpacks off; `badges` then fails with one error line."""
    env = {
        "OPENBACKPACK_DB": site.store.engine.url.render_as_string(hide_password=False),
        "OPENBACKPACK_SECRET_KEY": secret_key,
        "OPENBACKPACK_OUTBOX": str(tmp_path / "outbox"),
    }
    result = runner.invoke(app, ["settings", "show", "--json"], env=env)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["allow_external_backpacks"] is True
    assert set(shown) >= {"default_issuer_name", "default_issuer_contact", "badge_salt"}
    result = runner.invoke(app, ["settings", "set", "allow_external_backpacks", "false"], env=env)
    assert result.exit_code == 0, result.output
    assert "allow_external_backpacks changed" in result.output
    assert not site_settings(site.store).allow_external_backpacks
    result = runner.invoke(app, ["badges", "--user", LEARNER], env=env)
    assert result.exit_code == 1
    assert result.output.startswith("error: external backpacks are switched off")
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["settings", "set", "colour", "blue"], env=env)
    assert result.exit_code == 1
    assert "unknown setting 'colour'" in result.output
    result = runner.invoke(app, ["settings", "show"], env=env)
    assert result.exit_code == 0
    assert "read-only" in result.output


def test_issuer_add_command_uses_the_defaults(site: Site, tmp_path: Path, secret_key: str) -> None:
    """`issuer add --url URL` alone makes an issuer named and reachable as the settings say."""
    env = {
        "OPENBACKPACK_DB": site.store.engine.url.render_as_string(hide_password=False),
        "OPENBACKPACK_SECRET_KEY": secret_key,
    }
    set_site_setting(site.store, "default_issuer_contact", "badges@example.org")
    result = runner.invoke(
        app, ["issuer", "add", "--url", "https://example.org", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    made = json.loads(result.output)
    assert (made["name"], made["email"]) == ("openbackpack", "badges@example.org")
