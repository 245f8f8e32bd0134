"""Moving badges between reference hosts over loopback, and from files: verdicts, plan, proof."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from openbackpack.host import FaultSettings, HostSettings, RunningHost, run_host_in_thread
from openbackpack.services import NotOwnerError, erase_user_data
from openbackpack.services.move import (
    Action,
    FileSource,
    Proof,
    SourceDeletionUnsupportedError,
    Verdict,
    move_badges,
)
from openbackpack.store import Store
from tests.services._move import (
    OWNER,
    World,
    dead_url,
    dropping,
    learner_world,
    past,
    write_json,
)

pytestmark = pytest.mark.usefixtures("loopback_allowed")

DATA = Path(__file__).resolve().parent.parent / "data" / "ob30-validator"


def _host(directory: Path, name: str) -> HostSettings:
    return HostSettings(
        db_url=f"sqlite:///{directory / f'{name}.sqlite3'}",
        allow_private_fetch=True,
        login_backoff_max=0,
    )


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHost, RunningHost]]:
    """A source and a target Badgr host for the module."""
    directory = tmp_path_factory.mktemp("move-hosts")
    with (
        run_host_in_thread(_host(directory, "source")) as source,
        run_host_in_thread(_host(directory, "target")) as target,
    ):
        yield source, target


@pytest.fixture
def world(store: Store, hosts: tuple[RunningHost, RunningHost]) -> Iterator[World]:
    """A fresh learner with a Badgr backpack on each host, and the issuer site running."""
    with learner_world(store, hosts) as world:
        yield world


def _move(world: World, source: object = None, **options: object):  # type: ignore[no-untyped-def]
    return move_badges(
        world.store,
        OWNER,
        source or world.backpack(world.source_id),  # type: ignore[arg-type]
        world.backpack(world.target_id),
        fetch=world.fetch,
        **options,  # type: ignore[arg-type]
    )


def test_moves_every_badge_once_and_proves_each(world: World) -> None:
    """Every assertion of the source reaches the target once, proved; a rerun sends nothing."""
    hashes = [world.award() for _ in range(3)]
    world.import_into_source(*hashes)
    report = _move(world)
    assert report.complete
    assert [item.action for item in report.items] == [Action.MOVE] * 3
    assert {item.proof for item in report.items} == {Proof.PROVED}
    assert {item.done for item in report.items} == {"moved"}
    assert sorted(world.held_ids(world.target_id)) == sorted(world.url(h) for h in hashes)  # type: ignore[type-var]
    again = _move(world)
    assert [item.action for item in again.items] == [Action.ALREADY] * 3
    assert again.complete
    assert len(world.held_ids(world.target_id)) == 3


def test_dry_run_plans_and_sends_nothing(world: World) -> None:
    """A dry run verifies and plans (import by URL) but leaves the target as it was."""
    world.import_into_source(world.award())
    report = _move(world, dry_run=True)
    assert report.dry_run
    assert [(i.verdict, i.action, i.how) for i in report.items] == [
        (Verdict.VALID, Action.MOVE, "v2 import by URL")
    ]
    assert world.held_ids(world.target_id) == []
    assert report.to_json()["counts"]["move"] == 1


def test_every_verdict_is_reached_from_files(world: World, tmp_path: Path) -> None:
    """Valid, expired, revoked, mismatch, invalid and unverifiable badges, each planned apart."""
    folder = tmp_path / "badges"
    folder.mkdir()
    valid, expired, revoked = (
        world.award(),
        world.award(issued_on=past(3), expires=past()),
        world.award(),
    )
    other = world.award("someone-else@example.org")
    with world.store.transaction() as tx:
        tx.awards.revoke(revoked, "awarded in error")
    for name, award_hash in (("a-valid", valid), ("b-expired", expired), ("c-revoked", revoked)):
        write_json(folder / f"{name}.json", world.document(award_hash))
    write_json(folder / "d-mismatch.json", world.document(other))
    shutil.copy(DATA / "simple-err-proof-value.json", folder / "e-invalid.json")
    gone = world.document(world.award())
    gone["id"] = dead_url() + "/ob/assertions/gone"
    write_json(folder / "f-gone.json", gone)
    write_json(folder / "g-ob3.json", world.credential(world.award()))
    write_json(folder / "h-status.json", world.credential(world.award(), base=dead_url()))
    report = _move(world, FileSource(folder))
    got = {Path(i.source.key).stem: (i.verdict, i.action) for i in report.items}
    assert got == {
        "a-valid": (Verdict.VALID, Action.MOVE),
        "b-expired": (Verdict.EXPIRED, Action.MOVE),
        "c-revoked": (Verdict.REVOKED, Action.LEAVE),
        "d-mismatch": (Verdict.RECIPIENT_MISMATCH, Action.CANNOT),
        "e-invalid": (Verdict.INVALID, Action.LEAVE),
        "f-gone": (Verdict.UNVERIFIABLE, Action.CANNOT),
        "g-ob3": (Verdict.VALID, Action.CANNOT),
        "h-status": (Verdict.UNVERIFIABLE, Action.CANNOT),
    }
    why = {Path(i.source.key).stem: i.why for i in report.items}
    assert "issuer's hosted documents cannot be read" in why["f-gone"]
    assert "3.0 credential cannot go into a Badgr v2 backpack" in why["g-ob3"]
    assert "awarded in error" in why["c-revoked"]
    status = next(i for i in report.items if i.source.key.endswith("h-status.json"))
    assert "status" in status.reason
    moved = [i for i in report.items if i.action is Action.MOVE]
    assert {i.proof for i in moved} == {Proof.PROVED}
    assert sorted(world.held_ids(world.target_id)) == sorted([world.url(valid), world.url(expired)])  # type: ignore[type-var]
    assert report.complete


def test_proof_catches_a_badge_the_target_silently_dropped(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """Without re-sends a dropped badge is caught as missing; a later run re-sends it once."""
    hashes = [world.award() for _ in range(2)]
    world.import_into_source(*hashes)
    with dropping(hosts[1], 1):
        report = _move(world, concurrency=1, resend=0)
    assert [item.done for item in report.items] == ["moved", "moved"]
    assert [item.proof for item in report.items] == [Proof.MISSING, Proof.PROVED]
    assert not report.complete
    assert report.failed == [report.items[0]]
    assert [(i.sends, i.resent_present) for i in report.items] == [(1, None), (1, None)]
    assert world.held_ids(world.target_id) == [world.url(hashes[1])]
    # A later run with re-sends on sends the dropped one again: its mapping is forgotten first.
    later = _move(world, concurrency=1)
    assert [(i.done, i.sends, i.resent_present) for i in later.items] == [
        ("moved", 1, True),
        ("already there", 0, None),
    ]
    assert sorted(world.held_ids(world.target_id)) == sorted(world.url(h) for h in hashes)  # type: ignore[type-var]


def test_a_dropped_badge_is_sent_again_and_then_present_once(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """A badge the target dropped on its first send is re-sent, proved, and held exactly once."""
    hashes = [world.award() for _ in range(2)]
    world.import_into_source(*hashes)
    with dropping(hosts[1], 1):
        report = _move(world, concurrency=1)
    assert report.complete
    assert [i.proof for i in report.items] == [Proof.PROVED, Proof.PROVED]
    assert [(i.sends, i.resent_present) for i in report.items] == [(2, True), (1, None)]
    assert report.to_json()["badges"][0]["sends"] == 2
    assert sorted(world.held_ids(world.target_id)) == sorted(world.url(h) for h in hashes)  # type: ignore[type-var]
    again = _move(world)
    assert [i.action for i in again.items] == [Action.ALREADY] * 2
    assert sum(i.sends for i in again.items) == 0
    assert len(world.held_ids(world.target_id)) == 2


@pytest.fixture
def black_hole(tmp_path: Path) -> Iterator[RunningHost]:
    """A target host that answers every create with success and stores nothing."""
    settings = dataclasses.replace(
        _host(tmp_path, "black-hole"), faults=FaultSettings(black_hole_rate=1.0)
    )
    with run_host_in_thread(settings) as host:
        yield host


def test_a_badge_dropped_at_every_send_stays_dropped_and_is_not_deleted(
    store: Store, hosts: tuple[RunningHost, RunningHost], black_hole: RunningHost
) -> None:
    """A badge dropped at its send and at its re-send is reported missing and kept at the source."""
    with learner_world(store, (hosts[0], black_hole)) as world:
        award = world.award()
        world.import_into_source(award)
        report = _move(world, delete_source=True, resend=1)
        assert [(i.proof, i.sends, i.resent_present) for i in report.items] == [
            (Proof.MISSING, 2, False)
        ]
        assert "sent 2 times" in report.items[0].proof_reason
        assert not report.complete
        assert [i.deleted for i in report.items] == [False]
        assert world.held_ids(world.source_id) == [world.url(award)]
        assert world.held_ids(world.target_id) == []


def test_delete_source_removes_only_proved_badges(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """With delete_source, a badge is removed at the source only once proved at the target."""
    hashes = [world.award() for _ in range(2)]
    world.import_into_source(*hashes)
    with dropping(hosts[1], 1):
        report = _move(world, concurrency=1, delete_source=True, resend=0)
    assert [item.deleted for item in report.items] == [False, True]
    assert world.held_ids(world.source_id) == [world.url(hashes[0])]


def test_delete_source_is_refused_for_files(world: World, tmp_path: Path) -> None:
    """Files cannot be deleted: the move refuses before reading anything."""
    path = write_json(tmp_path / "one.json", world.document(world.award()))
    with pytest.raises(SourceDeletionUnsupportedError, match="never deleted"):
        _move(world, FileSource(path), delete_source=True)
    assert world.held_ids(world.target_id) == []


def test_baked_image_goes_in_by_the_image(world: World, tmp_path: Path) -> None:
    """A baked PNG file is imported by the image itself, and proved."""
    from openbackpack.credentials import bake_png
    from tests.registry_data import PNG

    award_hash = world.award()
    path = tmp_path / "baked.png"
    path.write_bytes(bake_png(PNG, world.url(award_hash), version="2.0"))
    report = _move(world, FileSource(path))
    assert [(i.how, i.proof) for i in report.items] == [("v2 import by baked image", Proof.PROVED)]
    assert world.held_ids(world.target_id) == [world.url(award_hash)]


def test_badge_connect_account_moves_into_badgr(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """Every assertion of a 2.1 account goes into a Badgr backpack, proved."""
    hashes = [world.award() for _ in range(3)]
    world.import_into_source(*hashes)
    bc_id = world.connect_badge_connect(hosts[0])
    report = _move(world, world.backpack(bc_id))
    assert report.source.startswith("Badge Connect backpack")
    assert [(i.verdict, i.action, i.proof) for i in report.items] == [
        (Verdict.VALID, Action.MOVE, Proof.PROVED)
    ] * 3
    assert sorted(world.held_ids(world.target_id)) == sorted(world.url(h) for h in hashes)  # type: ignore[type-var]


def test_badgr_backpack_moves_into_badge_connect(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """A Badgr backpack's assertions are POSTed to a 2.1 account, proved, once each."""
    hashes = [world.award() for _ in range(2)]
    world.import_into_source(*hashes)
    bc_id = world.connect_badge_connect(hosts[1])
    target = world.backpack(bc_id)
    report = move_badges(
        world.store, OWNER, world.backpack(world.source_id), target, fetch=world.fetch
    )
    assert [(i.how, i.proof) for i in report.items] == [("2.1 POST assertion", Proof.PROVED)] * 2
    again = move_badges(
        world.store, OWNER, world.backpack(world.source_id), target, fetch=world.fetch
    )
    assert [i.action for i in again.items] == [Action.ALREADY] * 2
    assert sorted(world.held_ids(bc_id)) == sorted(world.url(h) for h in hashes)  # type: ignore[type-var]


def test_badge_connect_source_cannot_delete(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """Badge Connect has no delete: asking for it is refused before anything is sent."""
    bc_id = world.connect_badge_connect(hosts[0])
    with pytest.raises(SourceDeletionUnsupportedError, match="no way to delete"):
        _move(world, world.backpack(bc_id), delete_source=True)


def test_proof_catches_a_badge_connect_target_that_drops_a_post(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """A 2.1 target that answers 200 and stores nothing is caught by the proof."""
    world.import_into_source(world.award())
    target = world.backpack(world.connect_badge_connect(hosts[1]))
    with dropping(hosts[1], 1):
        report = move_badges(
            world.store,
            OWNER,
            world.backpack(world.source_id),
            target,
            fetch=world.fetch,
            resend=0,
        )
    assert [(i.done, i.proof) for i in report.items] == [("moved", Proof.MISSING)]
    assert not report.complete


def test_accounts_of_another_user_are_refused(world: World) -> None:
    """A move on behalf of someone who does not own the accounts is refused."""
    with pytest.raises(NotOwnerError):
        move_badges(
            world.store,
            "someone-else",
            world.backpack(world.source_id),
            world.backpack(world.target_id),
        )


def test_erasing_the_learner_forgets_what_was_moved(world: World) -> None:
    """The move's records are import records of the target account: erasure removes them."""
    world.import_into_source(world.award())
    assert _move(world).complete
    report = erase_user_data(world.store, OWNER, client=world.client)
    assert report.import_records == 1


def test_many_credentials_verified_at_once_all_verify(world: World, tmp_path: Path) -> None:
    """Twelve 3.0 credentials verified eight at a time each get their own, valid, verdict."""
    for index in range(12):
        write_json(tmp_path / f"c{index:02}.json", world.credential(world.award()))
    report = _move(world, FileSource(tmp_path), dry_run=True, concurrency=8)
    assert [item.verdict for item in report.items] == [Verdict.VALID] * 12, [
        item.reason for item in report.items
    ]
