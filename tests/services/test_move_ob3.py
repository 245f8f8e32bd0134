"""Moving badges into and out of Open Badges 3.0 API accounts over loopback (re-issue too)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openbackpack.api import BackpackApi, Ob3Api
from openbackpack.cli import app
from openbackpack.credentials import DocumentLoader, verify_credential
from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.issuer import IssuerUrls
from openbackpack.issuer._ob3_build import ob3_credential_id
from openbackpack.protocols import ob3api
from openbackpack.services import add_backpack, begin_oauth_connection, complete_oauth_connection
from openbackpack.services.move import (
    Action,
    BadgeConnectBackpack,
    BadgeFacts,
    FileSource,
    MoveItem,
    MoveReport,
    Ob3Backpack,
    Proof,
    SourceBadge,
    SourceDeletionUnsupportedError,
    Verdict,
    connected_backpack,
    move_badges,
)
from openbackpack.services.move._backpacks import READ_PAGE_SIZE
from openbackpack.services.move._reissue import ReissuingTarget
from openbackpack.store import Store
from tests.services._bc import consent
from tests.services._move import (
    OWNER,
    REDIRECT,
    World,
    dropping,
    issuer_site,
    learner_world,
    registry_badge,
    write_json,
)

pytestmark = pytest.mark.usefixtures("loopback_allowed")


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
    with learner_world(store, hosts) as world:
        yield world


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


def _credential_files(world: World, directory: Path, count: int) -> None:
    """``count`` fresh signed 3.0 credentials as files ``c0.json``... in ``directory``."""
    for index, credential in enumerate(_credentials(world, count)):
        write_json(directory / f"c{index}.json", credential)


def test_credential_files_go_into_a_3_0_account_and_2_0_ones_do_not(
    world: World, hosts: tuple[RunningHost, RunningHost], tmp_path: Path
) -> None:
    """3.0 credentials are upserted and proved; a hosted 2.0 badge cannot go into a 3.0 host."""
    target = _connect(world, hosts[1])
    _credential_files(world, tmp_path, 2)
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


def _awards(world: World, count: int) -> list[str]:
    """Awards of ``count`` different badges (a 3.0 host keeps one per badge and recipient)."""
    made = []
    for _ in range(count):
        world.badge_id = registry_badge(world.store)
        made.append(world.award())
    return made


def _badge_connect_source(world: World, host: RunningHost, *hashes: str) -> BadgeConnectBackpack:
    """The learner's 2.1 account on ``host``, holding the awards (imported through Badgr)."""
    world.import_into_source(*hashes)
    found = world.backpack(world.connect_badge_connect(host))
    assert isinstance(found, BadgeConnectBackpack)
    return found


def _one_own_badge(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> tuple[str, BadgeConnectBackpack, Ob3Backpack]:
    """One award of this site in a Badge Connect account, and the 3.0 account to move it to."""
    award = world.award()
    return award, _badge_connect_source(world, hosts[0], award), _connect(world, hosts[1])


def _reissuing(world: World, source: BadgeConnectBackpack, target: Ob3Backpack) -> MoveReport:
    return move_badges(
        world.store,
        OWNER,
        source,
        target,
        fetch=world.fetch,
        reissue=IssuerUrls(world.base),
        reissue_did_method="key",
    )


def test_own_2_0_badges_are_reissued_into_a_3_0_account_once_and_proved(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """This site's live 2.0 awards go in re-issued, proved; a re-run sends nothing again."""
    *own, revoked = _awards(world, 3)
    source = _badge_connect_source(world, hosts[0], *own, revoked)
    with world.store.transaction() as tx:
        tx.awards.revoke(revoked, "in error")
    target = _connect(world, hosts[1])
    report = _reissuing(world, source, target)
    assert report.complete, report.to_json()
    moved = {str(i.facts.id): i for i in report.items if i.action is Action.MOVE}
    assert sorted(moved) == sorted(world.url(h) for h in own)
    for item in moved.values():
        assert item.how.startswith("re-issued by this site as a signed 3.0 credential")
        assert item.how.endswith("then 3.0 upsert credential")
        assert item.proof is Proof.PROVED
        assert "re-issued by this site" in item.done
    [left] = [i for i in report.items if i.action is Action.LEAVE]
    assert (left.facts.id, left.verdict) == (world.url(revoked), Verdict.REVOKED)
    urls = IssuerUrls(world.base)
    held = target.holdings()
    assert sorted(h.id for h in held) == sorted(urls.credential(h) for h in own)  # type: ignore[type-var]
    for copy in held:
        assert isinstance(copy.payload, dict)
        verified = verify_credential(
            copy.payload, loader=DocumentLoader(fetch=world.fetch), recipient=world.email
        )
        assert verified.valid, verified.to_json()
        assert copy.payload["evidence"][-1]["id"] in moved
    assert {b["reissued_as"] for b in report.to_json()["badges"] if b["action"] == "move"} == {
        urls.credential(h) for h in own
    }
    again = _reissuing(world, source, target)
    planned = [(i.facts.id, i.action) for i in again.items]
    assert sorted(planned, key=str) == sorted(
        [(world.url(h), Action.ALREADY) for h in own] + [(world.url(revoked), Action.LEAVE)],
        key=str,
    )
    assert sum(i.sends for i in again.items) == 0
    assert again.complete
    assert {i.proof for i in again.items if i.action is Action.ALREADY} == {Proof.PROVED}
    assert len(target.holdings()) == 2


def test_a_foreign_2_0_badge_cannot_be_reissued(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """A 2.0 badge hosted under another base URL than this site's is not re-issued."""
    own, foreign = _awards(world, 2)
    with issuer_site(world.store) as elsewhere:
        source = _badge_connect_source(world, hosts[0], own)
        side = world.backpack(world.source_id)
        with BackpackApi(
            side.provider, side.account, store=world.store, client=world.client
        ) as api:
            api.import_badge_assertion(IssuerUrls(elsewhere).assertion(foreign))
        target = _connect(world, hosts[1])
        report = _reissuing(world, source, target)
    by_id = {i.facts.id: i for i in report.items}
    assert by_id[world.url(own)].proof is Proof.PROVED
    other = by_id[IssuerUrls(elsewhere).assertion(foreign)]
    assert (other.verdict, other.action, other.reissue) == (Verdict.VALID, Action.CANNOT, None)
    assert "not one of this site's own live awards" in other.why
    assert [h.id for h in target.holdings()] == [IssuerUrls(world.base).credential(own)]


def test_a_hosted_copy_for_the_learners_email_is_reissued_to_that_email(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """An award's hosted copy for the learner's email is re-issued to that email, proved."""
    award = world.award(f"old-{uuid.uuid4().hex[:8]}@example.org", owner=OWNER)
    urls = IssuerUrls(world.base)
    copy_url = urls.assertion_for(award, world.email)
    side = world.backpack(world.source_id)
    with BackpackApi(side.provider, side.account, store=world.store, client=world.client) as api:
        api.import_badge_assertion(copy_url)
    found = world.backpack(world.connect_badge_connect(hosts[0]))
    assert isinstance(found, BadgeConnectBackpack)
    target = _connect(world, hosts[1])
    report = _reissuing(world, found, target)
    assert report.complete, report.to_json()
    [item] = report.items
    assert (item.facts.id, item.action, item.proof) == (copy_url, Action.MOVE, Proof.PROVED)
    assert item.reissue is not None
    assert item.reissue.recipient_email == world.email
    with world.store.transaction() as tx:
        wanted = ob3_credential_id(urls, tx.awards.get(award), world.email)
    assert wanted != urls.credential(award)  # a copy has an id of its own
    [held] = target.holdings()
    assert (held.id, item.reissue.credential_id) == (wanted, wanted)
    assert isinstance(held.payload, dict)
    verified = verify_credential(
        held.payload, loader=DocumentLoader(fetch=world.fetch), recipient=world.email
    )
    assert verified.valid, verified.to_json()
    assert held.payload["evidence"][-1]["id"] == copy_url


def test_a_copy_digest_of_no_verified_email_is_not_reissued(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """A copy URL whose digest names none of the owner's emails is not taken for this site's."""
    award = world.award(owner=OWNER)
    target = _connect(world, hosts[1])
    reissuing = ReissuingTarget(target, world.store, IssuerUrls(world.base), "key")
    forged = IssuerUrls(world.base).assertion(award) + "/recipients/" + "0" * 32
    item = MoveItem(
        source=SourceBadge(key=forged, where="test", payload=forged),
        verdict=Verdict.VALID,
        reason="",
        facts=BadgeFacts(format="ob2", id=forged, issuer=None, achievement=None),
    )
    reissuing.recognise(item)
    assert item.reissue is None


def test_without_reissue_a_2_0_badge_is_refused_with_a_hint(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """Without the option an own 2.0 badge still cannot go in, and the reason names it."""
    source = _badge_connect_source(world, hosts[0], world.award())
    target = _connect(world, hosts[1])
    report = move_badges(world.store, OWNER, source, target, fetch=world.fetch)
    assert [(i.action, i.reissue) for i in report.items] == [(Action.CANNOT, None)]
    assert "--reissue-base-url" in report.items[0].why
    assert target.holdings() == []


def test_a_reissue_killed_after_the_upsert_leaves_one_copy(
    world: World, hosts: tuple[RunningHost, RunningHost], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that dies after the host took the re-issued credential, run again: one copy."""
    award, source, target = _one_own_badge(world, hosts)
    upsert = Ob3Backpack.upsert

    def upsert_then_die(self: Ob3Backpack, credential: dict[str, object] | str, cid: str) -> str:
        upsert(self, credential, cid)
        raise _Killed

    monkeypatch.setattr(Ob3Backpack, "upsert", upsert_then_die)
    with pytest.raises(_Killed):
        _reissuing(world, source, target)
    monkeypatch.undo()
    report = _reissuing(world, source, target)
    assert [(i.action, i.sends, i.proof) for i in report.items] == [
        (Action.ALREADY, 0, Proof.PROVED)
    ]
    assert [h.id for h in target.holdings()] == [IssuerUrls(world.base).credential(award)]


def test_a_reissue_sent_twice_is_held_once(
    world: World, hosts: tuple[RunningHost, RunningHost], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-issued credential's id is the award's, so a repeated upsert replaces the copy."""
    award, source, target = _one_own_badge(world, hosts)
    upsert = Ob3Backpack.upsert

    def twice(self: Ob3Backpack, credential: dict[str, object] | str, cid: str) -> str:
        upsert(self, credential, cid)  # as a retry after a lost answer would
        return upsert(self, credential, cid)

    monkeypatch.setattr(Ob3Backpack, "upsert", twice)
    report = _reissuing(world, source, target)
    assert [(i.action, i.proof) for i in report.items] == [(Action.MOVE, Proof.PROVED)]
    assert [h.id for h in target.holdings()] == [IssuerUrls(world.base).credential(award)]


class _Killed(BaseException):
    """The process dying in the middle of a send (not an error any code handles)."""


def test_a_send_that_replaces_a_proved_copy_is_not_reported_complete(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """Two awards of one badge to one learner replace each other at a 3.0 host: one is missing."""
    hashes = [world.award() for _ in range(2)]
    source = _badge_connect_source(world, hosts[0], *hashes)
    target = _connect(world, hosts[1])
    report = _reissuing(world, source, target)
    assert len(target.holdings()) == 1
    assert sorted(i.proof for i in report.items) == [Proof.MISSING, Proof.PROVED]
    assert not report.complete


def test_move_command_plans_a_reissue_only_with_the_option(
    world: World, hosts: tuple[RunningHost, RunningHost], secret_key: str
) -> None:
    """``move --reissue-base-url`` plans this site's 2.0 badge as re-issued; without it, refused."""
    award = world.award()
    source = _badge_connect_source(world, hosts[0], award)
    target = _connect(world, hosts[1])
    env = {
        "OPENBACKPACK_DB": world.store.engine.url.render_as_string(hide_password=False),
        "OPENBACKPACK_SECRET_KEY": secret_key,
    }
    command = ["move", "--user", OWNER, "--from", str(source.provider.id),
               "--to", str(target.provider.id), "--dry-run", "--json"]  # fmt: skip
    plans = {}
    for extra in ([], ["--reissue-base-url", world.base]):
        result = CliRunner().invoke(app, [*command, *extra], env=env)
        assert result.exit_code == 0, result.output
        [plans[bool(extra)]] = json.loads(result.stdout)["badges"]
    assert plans[False]["action"] == "cannot be moved"
    assert "--reissue-base-url" in plans[False]["why"]
    assert plans[True]["action"] == "move"
    assert plans[True]["how"].startswith("re-issued by this site as a signed 3.0 credential")
    assert plans[True]["reissued_as"] == IssuerUrls(world.base).credential(award)
    assert target.holdings() == []


def test_reissue_changes_nothing_for_a_2_0_target(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """Into a Badgr v2 backpack a 2.0 badge goes as it is; a note says nothing is re-issued."""
    source = _badge_connect_source(world, hosts[0], world.award())
    badgr = world.backpack(world.target_id)
    report = move_badges(
        world.store, OWNER, source, badgr, fetch=world.fetch, reissue=IssuerUrls(world.base)
    )
    assert [(i.how, i.reissue, i.proof) for i in report.items] == [
        ("v2 import by URL", None, Proof.PROVED)
    ]
    assert any(note.startswith("nothing is re-issued") for note in report.notes)


def test_a_copy_the_host_shows_altered_is_verified_as_shown_not_as_sent(
    world: World, hosts: tuple[RunningHost, RunningHost], tmp_path: Path
) -> None:
    """Of two credentials sent intact, the one the host shows altered no longer verifies."""
    target = _connect(world, hosts[1])
    _credential_files(world, tmp_path, 2)
    hosts[1].faults.alter_shown(1)
    try:
        report = move_badges(world.store, OWNER, FileSource(tmp_path), target, fetch=world.fetch)
    finally:
        hosts[1].faults.alter_shown(0)
    proofs = sorted(item.proof for item in report.items)
    assert proofs == sorted([Proof.PROVED, Proof.NO_LONGER_VERIFIES])
    [altered] = [i for i in report.items if i.proof is Proof.NO_LONGER_VERIFIES]
    assert altered.proof_reason.startswith("invalid: ")
    assert altered.target_shows is not None
    assert isinstance(altered.target_shows.payload, dict)
    assert altered.target_shows.payload["name"].endswith("(altered by the host)")
    assert not report.complete


def test_an_account_of_more_than_a_default_page_is_read_in_one_request(
    world: World, hosts: tuple[RunningHost, RunningHost], monkeypatch: pytest.MonkeyPatch
) -> None:
    """101 credentials (the host's default page is 100) come back in one getCredentials page."""
    source = _connect(world, hosts[0])
    with Ob3Api(source.provider, source.account, store=world.store, client=world.client) as api:
        for credential in _credentials(world, 101):
            api.upsert_credential(credential)
    pages: list[int] = []
    real = Ob3Api.iter_credential_pages

    def counted(self: Ob3Api, **options: object) -> Iterator[ob3api.CredentialsPage]:
        assert options["limit"] == READ_PAGE_SIZE
        for page in real(self, **options):  # type: ignore[arg-type]
            pages.append(len(page))
            yield page

    monkeypatch.setattr(Ob3Api, "iter_credential_pages", counted)
    assert len(source.read()) == 101
    assert pages == [101]
