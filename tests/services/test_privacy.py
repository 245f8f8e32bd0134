"""Privacy: a user's data is exported without secrets and erased from every table."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from sqlalchemy import Table
from typer.testing import CliRunner

from openbackpack import InvalidInputError
from openbackpack.cli import app
from openbackpack.cli._output import to_jsonable
from openbackpack.client import BackpackClient, RetryPolicy
from openbackpack.host import RunningHost
from openbackpack.services import (
    add_backpack,
    begin_oauth_connection,
    complete_oauth_connection,
    erase_user_data,
    export_user_data,
)
from openbackpack.services._connect import import_key_prefix
from openbackpack.store import SITE_OWNER, IdentifierKind, Store
from openbackpack.store._schema import metadata
from openbackpack.store._types import utcnow
from tests.services._bc import Site, badge_connect_site, consent, new_learner

# The Badge Connect host these tests revoke at listens on loopback.
pytestmark = pytest.mark.usefixtures("loopback_allowed")

runner = CliRunner()
REDIRECT = "http://127.0.0.1:8/callback"
USER = "privacy-user-1"
OTHER = "privacy-user-2"

Row = dict[str, Any]
Belongs = Callable[[Row, str, set[int]], bool]


def _by_owner(row: Row, owner: str, _accounts: set[int]) -> bool:
    return bool(row["owner"] == owner)


def _by_account(row: Row, _owner: str, accounts: set[int]) -> bool:
    return row["account_id"] in accounts


def _by_import_key(row: Row, _owner: str, accounts: set[int]) -> bool:
    return any(str(row["internal_key"]).startswith(import_key_prefix(a)) for a in accounts)


# Every table of the store, said to hold a user's rows (and how to tell them) or the site's.
USER_TABLES: dict[str, Belongs] = {
    "backpack_accounts": _by_owner,
    "selected_collections": _by_account,
    "oauth_tokens": _by_account,
    "token_cache": _by_account,
    "badge_cache": _by_account,
    "pending_verifications": _by_owner,
    "oauth_states": _by_owner,
    "external_identifiers": _by_import_key,
    # The pushes queued for a learner, and their awards' outcomes.
    "jobs": _by_owner,
    "job_items": _by_owner,
}
SITE_TABLES = {
    "providers",
    "oauth_clients",
    "badgeconnect_manifests",
    "settings",
    "store_meta",
    # The issuer registry: what the site issued, not the learner's backpack data.
    "issuers",
    "badge_classes",
    "badge_class_relations",
    "endorsements",
    "awards",
    # The issuer's signing keys (sealed) and its status list entries, one per issued award.
    "issuer_keys",
    "status_entries",
    # Which host object the site created for which registry record: the site's pushes.
    "push_claims",
}
# The award's owner says which platform user it was made to; the award itself stays the
# issuer's record (the backpack privacy flows do not erase what the site issued).
_SITE_OWNER_COLUMNS = {("awards", "owner")}


@dataclass(frozen=True)
class People:
    site: Site
    v2_id: int
    emails: dict[str, str]
    bc_tokens: dict[str, str]


@pytest.fixture
def people(store: Store, bc_host: RunningHost) -> Iterator[People]:
    """Two users, each with a row in every user table: a 2.1 and a v2 account and the rest."""
    with badge_connect_site(store, bc_host) as site, BackpackClient() as client:
        v2 = add_backpack(store, "http://127.0.0.1:9/v2", "http://127.0.0.1:9/web", "2")
        emails, tokens = {}, {}
        for owner in (USER, OTHER):
            emails[owner] = new_learner(bc_host)
            url, state = begin_oauth_connection(
                store, owner, site.provider_id, REDIRECT, client=client
            )
            assert parse_qs(urlsplit(url).query)["state"] == [state]
            answer = consent(url, emails[owner])
            bc_account = complete_oauth_connection(store, state, answer["code"], client=client)
            _fill(store, owner, emails[owner], v2.id, site.provider_id, bc_account.id)
            with store.transaction() as tx:
                token = tx.oauth_tokens.get(bc_account.id)
            assert token is not None
            tokens[owner] = token.access_token.reveal()
        yield People(site, v2.id, emails, tokens)


def _fill(store: Store, owner: str, email: str, v2_id: int, bc_id: int, bc_account: int) -> None:
    with store.transaction() as tx:
        account = tx.accounts.create(v2_id, owner, email, f"password-of-{owner}")
        tx.collections.replace(account.id, [f"collection-of-{owner}"])
        tx.token_cache.save(account.id, f"token-of-{owner}", None, utcnow() + timedelta(hours=1))
        cached = '{"total_collections": 1, "badges": [], "failures": []}'
        tx.badge_cache.save(account.id, cached)
        tx.badge_cache.save(bc_account, cached)
        for provider, held in ((v2_id, account.id), (bc_id, bc_account)):
            key = import_key_prefix(held) + f"award-of-{owner}"
            tx.identifiers.create(provider, IdentifierKind.ASSERTION, key, f"remote-{owner}")
        tx.identifiers.create(
            v2_id, IdentifierKind.ASSERTION, f"site-award-{owner[-1]}", "site-push"
        )
        tx.verifications.create(owner, bc_id, email, f"pending-password-of-{owner}")
        tx.oauth_states.create(
            bc_id, owner, f"state-of-{owner}", "verifier", REDIRECT, "scope", email=email
        )
        tx.jobs.create(
            f"job-of-{owner}"[-32:], owner=owner, provider_id=v2_id,
            issuer_base_url="https://lms.example.org/issuer", refresh=False,
            chunks=[[f"award-of-{owner}"]],
        )  # fmt: skip
        tx.jobs.create_move(
            f"move-of-{owner}"[-32:], owner=owner, source_provider_id=v2_id,
            target_provider_id=bc_id, options={"emails": [f"also-{owner}@example.org"]},
        )  # fmt: skip


def _rows(store: Store, table: Table) -> list[Row]:
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(table.select())]


def _accounts_of(store: Store, owner: str) -> set[int]:
    with store.transaction() as tx:
        return {a.id for a in tx.accounts.list(owner=owner)}


def _rows_of(store: Store, owner: str, accounts: set[int]) -> dict[str, list[Row]]:
    return {
        name: [r for r in _rows(store, metadata.tables[name]) if belongs(r, owner, accounts)]
        for name, belongs in USER_TABLES.items()
    }


def test_every_table_is_classified_and_every_user_column_is_covered() -> None:
    """Each table of the metadata is a user or a site table; any owner column is a user one."""
    assert set(metadata.tables) == set(USER_TABLES) | SITE_TABLES
    assert not set(USER_TABLES) & SITE_TABLES
    for name in SITE_TABLES:
        columns = set(metadata.tables[name].c.keys())
        columns -= {column for table, column in _SITE_OWNER_COLUMNS if table == name}
        assert not columns & {"owner", "account_id"}, name


def test_export_holds_every_kind_of_row_and_no_secret(people: People) -> None:
    """The export lists the user's accounts, selections, tokens, caches, imports and pendings."""
    store = people.site.store
    exported = export_user_data(store, USER)
    text = json.dumps(to_jsonable(exported))
    assert exported.owner == USER
    assert len(exported.accounts) == 2
    v2 = next(a for a in exported.accounts if a["provider"]["id"] == people.v2_id)
    bc = next(a for a in exported.accounts if a["provider"]["id"] == people.site.provider_id)
    assert v2["stored_password"] == "present"
    assert v2["selected_collections"] == [f"collection-of-{USER}"]
    assert v2["token_cache"]["access_token"] == "present"
    assert v2["cached_badges"]["content"]["total_collections"] == 1
    assert [i["award_hash"] for i in v2["imports"]] == [f"award-of-{USER}"]
    assert bc["oauth_token"]["access_token"] == "present"
    assert bc["email"] == people.emails[USER]
    assert [p["stored_password"] for p in exported.pending_verifications] == ["present"]
    assert [p["state"] for p in exported.pending_authorizations] == ["present"]
    jobs = {j["id"]: j for j in exported.jobs}
    assert jobs[f"job-of-{USER}"]["awards"] == {f"award-of-{USER}": "pending"}
    assert jobs[f"move-of-{USER}"]["options"]["emails"] == [f"also-{USER}@example.org"]
    assert len(jobs) == 2
    for secret in (
        f"password-of-{USER}", f"token-of-{USER}", f"pending-password-of-{USER}",
        f"state-of-{USER}", people.bc_tokens[USER], OTHER, people.emails[OTHER],
        f"also-{OTHER}@example.org",
    ):  # fmt: skip
        assert secret not in text


def test_erase_revokes_at_the_host_and_leaves_no_row_of_the_user(
    people: People, bc_host: RunningHost
) -> None:
    """After erasure no table holds a row or a mention of the user; the other user is intact."""
    store = people.site.store
    accounts = _accounts_of(store, USER)
    others = _accounts_of(store, OTHER)
    theirs_before = _rows_of(store, OTHER, others)
    assert all(theirs_before.values()), "every user table holds a row of the other user"
    assert all(_rows_of(store, USER, accounts).values())
    site_before = {name: _rows(store, metadata.tables[name]) for name in SITE_TABLES}
    report = erase_user_data(store, USER)
    assert report.accounts == 2
    assert report.import_records == 2
    assert report.pending_verifications == report.pending_authorizations == 1
    assert report.tokens == 2
    revoked = {r.provider_id: r.revoked for r in report.revocations}
    assert revoked == {people.site.provider_id: True, people.v2_id: False}
    assert not any(_rows_of(store, USER, accounts).values())
    for table in metadata.sorted_tables:
        for row in _rows(store, table):
            values = " ".join(str(value) for value in row.values())
            assert USER not in values, table.name
            assert people.emails[USER] not in values, table.name
    assert _rows_of(store, OTHER, others) == theirs_before
    assert {name: _rows(store, metadata.tables[name]) for name in SITE_TABLES} == site_before
    profile = bc_host.badgeconnect_api_url + "/profile"
    dead = httpx2.get(profile, headers={"Authorization": f"Bearer {people.bc_tokens[USER]}"})
    alive = httpx2.get(profile, headers={"Authorization": f"Bearer {people.bc_tokens[OTHER]}"})
    assert dead.status_code == 401
    assert alive.status_code == 200
    assert export_user_data(store, USER).accounts == []


def test_erase_goes_on_when_the_host_cannot_revoke(people: People, bc_host: RunningHost) -> None:
    """A host that fails revocation is reported, and the user's rows are erased all the same."""
    store = people.site.store
    accounts = _accounts_of(store, USER)
    with BackpackClient(retry=RetryPolicy(attempts=1)) as client:
        bc_host.faults.fail_next(2, 503)
        try:
            report = erase_user_data(store, USER, client=client)
        finally:
            bc_host.faults.fail_next(0)
    [failed] = [r for r in report.revocations if r.provider_id == people.site.provider_id]
    assert not failed.revoked
    assert "revocation failed" in failed.detail
    assert not any(_rows_of(store, USER, accounts).values())


def test_the_site_and_bad_owner_ids_are_refused(store: Store) -> None:
    """The site's own accounts are not a user's data; an empty id is refused."""
    for owner in (SITE_OWNER, "", " x"):
        with pytest.raises(InvalidInputError):
            export_user_data(store, owner)
        with pytest.raises(InvalidInputError):
            erase_user_data(store, owner)


def test_privacy_commands_export_json_and_erase_after_confirmation(
    people: People, tmp_path: Path, secret_key: str
) -> None:
    """`privacy export` prints JSON; `privacy erase` asks first, and `--yes` erases."""
    store = people.site.store
    env = {
        "OPENBACKPACK_DB": store.engine.url.render_as_string(hide_password=False),
        "OPENBACKPACK_SECRET_KEY": secret_key,
    }
    result = runner.invoke(app, ["privacy", "export", "--user", USER], env=env)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["owner"] == USER
    assert {a["stored_password"] for a in printed["accounts"]} == {"present", None}
    assert f"password-of-{USER}" not in result.output
    result = runner.invoke(app, ["privacy", "erase", "--user", USER], env=env, input="n\n")
    assert result.exit_code == 1
    assert "nothing was erased" in result.output
    assert len(_accounts_of(store, USER)) == 2
    result = runner.invoke(app, ["privacy", "erase", "--user", USER, "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert "erased user privacy-user-1: 2 account(s)" in result.output
    assert "revoked at the host" in result.output
    assert _accounts_of(store, USER) == set()
    assert len(_accounts_of(store, OTHER)) == 2
