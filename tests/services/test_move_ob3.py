"""Moving badges into and out of Open Badges 3.0 API accounts over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openbackpack.api import Ob3Api
from openbackpack.client import BackpackClient, RetryPolicy
from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.protocols import ob3api
from openbackpack.services import add_backpack, begin_oauth_connection, complete_oauth_connection
from openbackpack.services.move import (
    Action,
    FileSource,
    Ob3Backpack,
    Proof,
    SourceDeletionUnsupportedError,
    Verdict,
    connected_backpack,
    move_badges,
)
from openbackpack.store import Store
from tests.services._bc import consent
from tests.services._move import (
    OWNER,
    REDIRECT,
    World,
    dropping,
    issuer_site,
    new_learner,
    registry_badge,
    write_json,
)

pytestmark = pytest.mark.usefixtures("loopback_allowed")

FAST = RetryPolicy(attempts=2, initial_delay=0.001, max_delay=0.005, wait_scale=0.01)


def _settings(directory: Path, name: str) -> HostSettings:
    return HostSettings(
        db_url=f"sqlite:///{directory / f'{name}.sqlite3'}",
        allow_private_fetch=True,
        login_backoff_max=0,
        ob3_accept_unchecked=True,
    )


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHost, RunningHost]]:
    """Two hosts (each serves Badgr v2 and the OB 3.0 API) for the module."""
    directory = tmp_path_factory.mktemp("move-ob3-hosts")
    with (
        run_host_in_thread(_settings(directory, "one")) as one,
        run_host_in_thread(_settings(directory, "two")) as two,
    ):
        yield one, two


@pytest.fixture
def world(store: Store, hosts: tuple[RunningHost, RunningHost]) -> Iterator[World]:
    """A fresh learner on both hosts (a Badgr backpack on each), the issuer site running."""
    one, two = hosts
    with issuer_site(store) as base, BackpackClient(retry=FAST) as client:
        email, source_id, target_id = new_learner(store, one.api_url, two.api_url, one, two)
        yield World(store, base, email, source_id, target_id, registry_badge(store), client)


def _connect(world: World, host: RunningHost) -> Ob3Backpack:
    provider = add_backpack(world.store, host.base_url + ob3api.API_PATH, host.base_url, "3.0")
    url, state = begin_oauth_connection(
        world.store, OWNER, provider.id, REDIRECT, email=world.email, client=world.client
    )
    answer = consent(url, world.email)
    complete_oauth_connection(world.store, state, answer["code"], client=world.client)
    found = connected_backpack(world.store, OWNER, provider.id, world.client)
    assert isinstance(found, Ob3Backpack)
    return found


def _credentials(world: World, count: int) -> list[dict[str, object]]:
    """Signed credentials of ``count`` different badges (a 3.0 host keeps one per badge)."""
    made = []
    for _ in range(count):
        world.badge_id = registry_badge(world.store)
        made.append(world.credential(world.award()))
    return made


def test_credential_files_go_into_a_3_0_account_and_2_0_ones_do_not(
    world: World, hosts: tuple[RunningHost, RunningHost], tmp_path: Path
) -> None:
    """3.0 credentials are upserted and proved; a hosted 2.0 badge cannot go into a 3.0 host."""
    target = _connect(world, hosts[1])
    for index, credential in enumerate(_credentials(world, 2)):
        write_json(tmp_path / f"c{index}.json", credential)
    write_json(tmp_path / "old.json", world.document(world.award()))
    report = move_badges(world.store, OWNER, FileSource(tmp_path), target, fetch=world.fetch)
    got = [(Path(i.source.key).name, i.verdict, i.action, i.how, i.proof) for i in report.items]
    assert got == [
        ("c0.json", Verdict.VALID, Action.MOVE, "3.0 upsert credential", Proof.PROVED),
        ("c1.json", Verdict.VALID, Action.MOVE, "3.0 upsert credential", Proof.PROVED),
        ("old.json", Verdict.VALID, Action.CANNOT, "", Proof.NOT_CHECKED),
    ]
    assert "cannot go into an Open Badges 3.0 host" in report.items[2].why
    assert report.complete
    again = move_badges(world.store, OWNER, FileSource(tmp_path), target, fetch=world.fetch)
    assert [i.action for i in again.items[:2]] == [Action.ALREADY] * 2
    assert len(target.holdings()) == 2


def test_a_3_0_account_moves_into_another_and_not_into_badgr(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """Every credential of a 3.0 account reaches another 3.0 account; Badgr v2 refuses them."""
    source = _connect(world, hosts[0])
    with Ob3Api(source.provider, source.account, store=world.store, client=world.client) as api:
        for credential in _credentials(world, 3):
            api.upsert_credential(credential)
    target = _connect(world, hosts[1])
    report = move_badges(world.store, OWNER, source, target, fetch=world.fetch)
    assert [(i.action, i.proof) for i in report.items] == [(Action.MOVE, Proof.PROVED)] * 3
    assert sorted(h.id for h in target.holdings()) == sorted(h.id for h in source.holdings())  # type: ignore[type-var]
    badgr = world.backpack(world.target_id)
    refused = move_badges(world.store, OWNER, source, badgr, fetch=world.fetch, dry_run=True)
    assert {i.action for i in refused.items} == {Action.CANNOT}
    assert "3.0 credential cannot go into a Badgr v2 backpack" in refused.items[0].why
    with pytest.raises(SourceDeletionUnsupportedError, match="no way to delete"):
        move_badges(world.store, OWNER, source, target, delete_source=True)


def test_proof_catches_a_3_0_host_that_drops_an_upsert(
    world: World, hosts: tuple[RunningHost, RunningHost], tmp_path: Path
) -> None:
    """Without re-sends, a 3.0 host that echoes the credential and stores nothing is caught."""
    target = _connect(world, hosts[1])
    write_json(tmp_path / "c.json", _credentials(world, 1)[0])
    with dropping(hosts[1], 1):
        report = move_badges(
            world.store, OWNER, FileSource(tmp_path), target, fetch=world.fetch, resend=0
        )
    assert [(i.done, i.proof) for i in report.items] == [("moved", Proof.MISSING)]
    assert not report.complete
    assert target.holdings() == []
