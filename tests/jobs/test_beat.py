"""The beat in a real ``openbackpack worker --beat`` process keeps every learner's cache fresh."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pytest
from benchmarks._seed import ISSUER_EMAIL, ISSUER_PASSWORD

from openbackpack._settings import data_dir
from openbackpack.client import BackpackClient, RetryPolicy
from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.protocols import badgr
from openbackpack.services import push_award
from openbackpack.store import Store
from tests.jobs._deploy import ISSUER_BASE, Workers, recipient, site, workers
from tests.services.conftest import collection

pytestmark = pytest.mark.usefixtures("loopback_allowed")

LEARNERS = 2
PASSWORD = "learner-password"
T = TypeVar("T")
FAST = RetryPolicy(attempts=2, initial_delay=0.001, max_delay=0.005, wait_scale=0.01)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A reference host in a thread on a free loopback port, with the site's issuer."""
    db = f"sqlite:///{tmp_path_factory.mktemp('host') / 'host.sqlite3'}"
    settings = HostSettings(db_url=db, login_backoff_max=0, allow_private_fetch=True)
    with run_host_in_thread(settings) as running:
        running.add_user(ISSUER_EMAIL, ISSUER_PASSWORD)
        yield running


@pytest.fixture
def client() -> Iterator[BackpackClient]:
    """The test's own client (the site pushing, the learners arranging their collections)."""
    with BackpackClient(retry=FAST) as shared:
        yield shared


class Learners:
    """A site whose learners each connected a backpack on the host and chose one collection."""

    def __init__(self, store: Store, host: RunningHost, client: BackpackClient) -> None:
        self.store, self.host, self.client = store, host, client
        self.tag = uuid.uuid4().hex[:8]
        site(store, host.api_url, 0, self.tag)
        with store.transaction() as tx:
            provider = tx.providers.primary()
            assert provider is not None
            self.badge_id = tx.badge_classes.list()[0].id
            self.accounts: dict[str, int] = {}
            for n in range(LEARNERS):
                email = recipient(self.tag, n)
                host.add_user(email, PASSWORD)
                self.accounts[email] = tx.accounts.create(
                    provider.id, f"{self.tag}-{n}", email, PASSWORD
                ).id
        self.badges: dict[str, list[str]] = {}
        self.collections: dict[str, str] = {}
        for email, account_id in self.accounts.items():
            self.badges[email] = [self.push(email)]
            chosen = collection(client, host, email, PASSWORD, self.badges[email])
            self.collections[email] = chosen
            with store.transaction() as tx:
                tx.collections.replace(account_id, [chosen])

    def push(self, email: str) -> str:
        """Award the site's badge to ``email`` and put it in their backpack; its id there."""
        with self.store.transaction() as tx:
            award = tx.awards.create(self.badge_id, email).hash
        owner = f"{self.tag}-{list(self.accounts).index(email)}"
        pushed = push_award(self.store, owner, award, issuer_base_url=ISSUER_BASE,
                            client=self.client)  # fmt: skip
        return str(pushed.site_assertion_id)

    def add_badge(self, email: str) -> str:
        """A new badge in the learner's chosen collection, at the host only; its id."""
        self.badges[email].append(self.push(email))
        token = self.client.password_grant(self.host.api_url, email, PASSWORD).access_token
        self.client.fetch(
            badgr.route("backpack.collections.update"),
            self.host.api_url,
            params={"collection": self.collections[email]},
            data={"name": "Mine", "published": True, "assertions": self.badges[email]},
            token=token,
        )
        return self.badges[email][-1]

    def caches(self) -> dict[str, tuple[str, datetime] | None]:
        """Each learner's cached badges (payload, fetched at), None before the first read."""
        with self.store.transaction() as tx:
            return {email: tx.badge_cache.get(a) for email, a in self.accounts.items()}


def _until(check: Callable[[], T | None], timeout: float, explain: Callable[[], str]) -> T:
    """What ``check`` returns once it is not None; fail with ``explain()`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while (found := check()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(explain())
        time.sleep(0.1)
    return found


def _all_holding(
    learners: Learners, after: dict[str, datetime] | None
) -> Callable[[], dict[str, datetime] | None]:
    """Each learner's fetched-at once every cache holds all their badges (read after ``after``)."""

    def check() -> dict[str, datetime] | None:
        seen: dict[str, datetime] = {}
        for email, cached in learners.caches().items():
            if cached is None or (after is not None and cached[1] <= after[email]):
                return None
            if not all(badge in cached[0] for badge in learners.badges[email]):
                return None
            seen[email] = cached[1]
        return seen

    return check


def _running_in_group(group: int) -> list[str]:
    """The processes of a process group still running (an exited child may await reaping)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # After the command: state, parent, process group.
        if int(fields[2]) == group and fields[0] not in ("Z", "X"):
            running.append(stat.parent.name)
    return running


def _stop_with_sigterm(deployment: Workers, number: int) -> subprocess.Popen[bytes]:
    """SIGTERM one worker's main process and wait (10 s at most) for it to exit."""
    process = deployment.processes[number]
    # To the worker alone, as a supervisor stopping its main process does: it stops its own.
    process.send_signal(signal.SIGTERM)
    process.wait(10)
    return process


def test_the_beat_refreshes_every_learners_cache_and_stops_cleanly_on_sigterm(
    store: Store,
    store_url: str,
    secret_key: str,
    host: RunningHost,
    client: BackpackClient,
    tmp_path: Path,
) -> None:
    """worker --beat every 1 s: both caches read, then re-read with a badge added at the host."""
    with workers(store_url, secret_key, tmp_path) as deployment:
        deployment.start(1, concurrency=1, beat=True, env={"OPENBACKPACK_REFRESH_EVERY": "1"})
        # Made while the worker starts (3 s): only the beat's refreshes ever fill the caches,
        # and it goes on refreshing until every badge is there.
        learners = Learners(store, host, client)
        explain = deployment.log_tail
        first = _until(_all_holding(learners, None), 12, explain)
        added = {email: learners.add_badge(email) for email in learners.accounts}
        second = _until(_all_holding(learners, first), 6, explain)
        process = _stop_with_sigterm(deployment, 0)
        log = deployment.log_of(0)
    # Read again by a later tick, with the badge that only the host knew of.
    assert all(second[email] > first[email] for email in learners.accounts)
    caches = learners.caches()
    for email, badge in added.items():
        cached = caches[email]
        assert cached is not None
        assert badge in cached[0]
    assert "Sending due task refresh-badge-caches (openbackpack.refresh_all)" in log
    # The beat's record is kept with the user's data, never in the directory it started in.
    kept = sorted(p.name for p in data_dir().glob(f"celerybeat-{deployment.prefix}*"))
    assert kept, f"no celerybeat-{deployment.prefix}* in {data_dir()}"
    assert list(deployment.cwd.iterdir()) == []
    assert process.returncode == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    # Nothing of the worker is left running: not its pool, not the beat's process.
    assert _running_in_group(process.pid) == []
