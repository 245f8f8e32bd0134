"""Bulk push that never duplicates: crashes, cut-off answers, several processes, resume cost."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest

from openbackpack import BackpackApi
from openbackpack.client import BackpackClient
from openbackpack.protocols import badgr
from openbackpack.services import BulkPushReport, push_awards
from openbackpack.store import IdentifierKind
from tests.registry_data import PNG

from .conftest import ISSUER_BASE, Hosts, Site, award

_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def badge(site: Site) -> int:
    """A badge class of the test's own, unknown to the module's shared host.

    Its name is what the push reconciles by, so no earlier test's badge class is adopted.
    """
    with site.store.transaction() as tx:
        return tx.badge_classes.create(
            1, f"Claims {uuid.uuid4().hex}", "Pushed once.", PNG, criteria_narrative="Pass."
        ).id


def _award(site: Site, badge: int) -> str:
    return award(site, badge_id=badge)


def _host_assertions(site: Site, client: BackpackClient, badge: int) -> Counter[str]:
    """How many assertions of the test's badge class the site backpack holds, by identity."""
    with site.store.transaction() as tx:
        provider = tx.providers.get(site.primary_id)
        badge_id = tx.identifiers.get(
            site.primary_id, IdentifierKind.BADGE_CLASS, f"badgeclass:{badge}"
        )
    assert badge_id is not None
    with BackpackApi(provider, store=site.store, client=client) as api:
        items = api.list_items(
            badgr.route("badgeclass.assertions.list"),
            {"badgeclass": badge_id},
            [("include_revoked", "true"), ("include_expired", "true")],
        )
        return Counter(item["issuedOn"] + str(item.get("evidence")) for item in items)


def _remote_count(site: Site, client: BackpackClient, badge: int) -> int:
    return sum(_host_assertions(site, client, badge).values())


def _mapped(site: Site) -> dict[str, str]:
    with site.store.transaction() as tx:
        return {
            i.internal_key: i.external_id
            for i in tx.identifiers.list(site.primary_id)
            if i.kind is IdentifierKind.ASSERTION
        }


def _push_one_at_a_time(
    site: Site,
    client: BackpackClient,
    hashes: list[str],
    done: list[str],
    stop: Callable[[], bool] | None = None,
) -> BulkPushReport:
    """Push ``hashes`` one at a time, appending each award to ``done`` as it finishes."""
    return push_awards(
        site.store,
        None,
        hashes,
        issuer_base_url=ISSUER_BASE,
        client=client,
        concurrency=1,
        on_done=lambda outcome: done.append(outcome.award_hash),
        stop=stop,
    )


def test_a_resume_after_everything_was_pushed_sends_no_request(site: Site, badge: int) -> None:
    """Once every award is pushed and unchanged, a rerun sends nothing; refresh sends PUTs."""
    hashes = [_award(site, badge) for _ in range(5)]
    sent: list[str] = []
    with (
        httpx2.Client(event_hooks={"request": [lambda r: sent.append(r.method)]}) as http,
        BackpackClient(http_client=http) as client,
    ):
        first = push_awards(site.store, None, hashes, issuer_base_url=ISSUER_BASE, client=client)
        # A create whose answer timed out on a loaded machine is adopted: still one each.
        assert (first.created + first.adopted, first.failed) == (5, 0)
        sent.clear()
        again = push_awards(site.store, None, hashes, issuer_base_url=ISSUER_BASE, client=client)
        assert sent == []
        assert (again.skipped, again.created, again.updated) == (5, 0, 0)
        refreshed = push_awards(
            site.store, None, hashes, issuer_base_url=ISSUER_BASE, client=client, refresh=True
        )
    assert refreshed.updated == 5
    assert sent.count("PUT") == 5


def test_a_resume_pushes_the_new_awards_first_and_reports_in_the_given_order(
    site: Site, badge: int, client: BackpackClient
) -> None:
    """Awards never pushed are done before those pushed before; the report keeps input order."""
    hashes = [_award(site, badge) for _ in range(6)]
    pushed_before, new = hashes[:3], hashes[3:]
    push_awards(site.store, None, pushed_before, issuer_base_url=ISSUER_BASE, client=client)
    done: list[str] = []
    report = _push_one_at_a_time(site, client, hashes, done)
    assert done == new + pushed_before
    assert [result.award_hash for result in report.results] == hashes
    outcomes = [result.site for result in report.results]
    # A create whose answer timed out on a loaded machine is adopted: still pushed once.
    assert outcomes[:3] == ["skipped"] * 3
    assert all(outcome in ("created", "adopted") for outcome in outcomes[3:])


def test_stop_ends_a_push_after_the_awards_in_flight_and_lists_those_never_started(
    site: Site, badge: int, client: BackpackClient
) -> None:
    """After stop, no award starts; those not started are listed, unclaimed, and pushed later."""
    hashes = [_award(site, badge) for _ in range(8)]
    started: list[str] = []
    report = _push_one_at_a_time(site, client, hashes, started, stop=lambda: len(started) >= 3)
    assert [result.award_hash for result in report.results] == hashes[:3]
    assert report.not_started == hashes[3:]
    assert not report.complete
    assert not report.failures
    assert set(_mapped(site)) >= set(hashes[:3])
    assert not set(_mapped(site)) & set(hashes[3:])
    assert _remote_count(site, client, badge) == 3
    with site.store.transaction() as tx:
        held = [tx.push_claims.held(site.primary_id, IdentifierKind.ASSERTION, h) for h in hashes]
    assert held == [None] * 8  # the claims taken ahead for the awards not started are freed
    rest = push_awards(site.store, None, hashes, issuer_base_url=ISSUER_BASE, client=client)
    assert (rest.skipped, rest.created + rest.adopted) == (3, 5)
    assert _remote_count(site, client, badge) == 8


def test_an_answer_cut_off_after_the_create_is_adopted(
    site: Site, hosts: Hosts, client: BackpackClient, badge: int
) -> None:
    """A POST whose answer is lost after the host created the assertion is adopted, not re-sent."""
    push_awards(site.store, None, [_award(site, badge)], issuer_base_url=ISSUER_BASE, client=client)
    before = _remote_count(site, client, badge)
    lost = _award(site, badge)
    with site.store.transaction() as tx:
        badge_id = tx.identifiers.get(
            site.primary_id, IdentifierKind.BADGE_CLASS, f"badgeclass:{badge}"
        )
    # Only the create's answer is cut: the host commits the assertion before it answers.
    hosts.primary.faults.drop_next(1, path=f"/v2/badgeclasses/{badge_id}/assertions")
    report = push_awards(site.store, None, [lost], issuer_base_url=ISSUER_BASE, client=client)
    assert report.complete, report.failures
    assert (report.adopted, report.created) == (1, 0)
    assert _remote_count(site, client, badge) == before + 1
    assert lost in _mapped(site)  # the adopted assertion is the award's from now on


def _child(
    site: Site, store_url: str, key: str, hashes: list[str], path: Path
) -> subprocess.Popen[str]:
    path.write_text("\n".join(hashes))
    env = {**os.environ, "OPENBACKPACK_SECRET_KEY": key, "PYTHONPATH": str(_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.services._push_child", store_url, ISSUER_BASE, str(path)],
        cwd=_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> dict[str, object]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    counts: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return counts


def _exactly_one_each(site: Site, client: BackpackClient, hashes: list[str], badge: int) -> None:
    mapped = _mapped(site)
    assert set(hashes) <= set(mapped)
    remote_ids = [mapped[h] for h in hashes]
    assert len(set(remote_ids)) == len(hashes)  # no two awards share one remote assertion
    assert _remote_count(site, client, badge) == len(hashes)  # and nothing extra on the host


def test_a_push_killed_at_random_points_then_resumed_leaves_one_assertion_per_award(
    site: Site,
    store_url: str,
    secret_key: str,
    client: BackpackClient,
    tmp_path: Path,
    badge: int,
) -> None:
    """SIGKILL at random moments, then a resume: every award has exactly one assertion."""
    hashes = [_award(site, badge) for _ in range(40)]
    chance = random.Random(13)
    for round_ in range(3):
        process = _child(site, store_url, secret_key, hashes, tmp_path / f"h{round_}")
        # Die somewhere between start-up and the middle of the pushes.
        deadline = time.monotonic() + 20
        while len(_mapped(site)) < 3 * (round_ + 1) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(chance.uniform(0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    counts = _finish(_child(site, store_url, secret_key, hashes, tmp_path / "last"))
    assert counts["failed"] == 0, counts
    _exactly_one_each(site, client, hashes, badge)


@pytest.mark.parametrize("processes", [2, 3])
def test_concurrent_processes_on_one_store_push_each_award_once(
    site: Site,
    store_url: str,
    secret_key: str,
    client: BackpackClient,
    tmp_path: Path,
    processes: int,
    badge: int,
) -> None:
    """Processes racing on the same and on disjoint awards: no traceback, no duplicate."""
    hashes = [_award(site, badge) for _ in range(24)]
    # Two processes push the same awards; with three, the second and third push disjoint
    # halves, each overlapping the first, so every award is pushed by two processes.
    sets = [hashes, hashes] if processes == 2 else [hashes, hashes[:12], hashes[12:]]
    barrier = threading.Barrier(processes)
    started: list[subprocess.Popen[str]] = []
    lock = threading.Lock()

    def start(index: int) -> None:
        barrier.wait()
        process = _child(site, store_url, secret_key, sets[index], tmp_path / f"p{index}")
        with lock:
            started.append(process)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(processes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = [_finish(process) for process in started]
    assert all(r["failed"] == 0 for r in results), results
    _exactly_one_each(site, client, hashes, badge)
    resume = _finish(_child(site, store_url, secret_key, hashes, tmp_path / "resume"))
    assert resume["skipped"] == len(hashes)
