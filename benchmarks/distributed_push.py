"""distributed_push: 20,000 awards to 4 rate-limited hosts by 3 worker processes, one killed.

Four sites (one store each, its primary backpack one of four reference hosts, each limited
to 100 requests per second with a 50 ms round trip through the latency proxy) push 5,000
awards each as a job. Three ``openbackpack worker`` processes serve the four stores over
Redis, sharing one rate limit per host (the providers' rows say 100/s, burst 10); midway
one worker is killed with SIGKILL and started again. No client can beat 20,000 / 400 = 50 s.

Measured: the wall time from enqueue to the last job done, against that floor; duplicates
and lost awards (each host's own assertions, per recipient); the 429s the workers met (their
client logs each one); and, for comparison, the same 20,000 awards through the in-process
bulk push (``push_awards``, four sites at once in one process, each paced by a local
``RateLimiter``) against the same hosts.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import insert, select

from benchmarks._processes import HostProcess, host_process, proxy_process
from benchmarks._report import Result, progress
from benchmarks._seed import ISSUER_EMAIL, ISSUER_PASSWORD, PNG, add_host_users, workdir
from benchmarks.bulk_push import StatusCounter
from openbackpack.client import BackpackClient, RateLimiter
from openbackpack.host import HostDatabase
from openbackpack.host import _schema as host_tables
from openbackpack.jobs import JobSettings, create_celery_app, enqueue_push
from openbackpack.services import add_backpack, push_awards
from openbackpack.store import SecretBox, Store
from openbackpack.store import _schema as store_tables

__all__ = ["Config", "measure", "run"]

NAME: Final = "distributed_push"
ISSUER_BASE: Final = "http://127.0.0.1:9/issuer"
REDIS: Final = "redis://127.0.0.1:6379/0"
POSTGRES_ENV: Final = "OPENBACKPACK_BENCH_POSTGRES"
MAX_FLOOR_MULTIPLE: Final = 1.2
MAX_429_SHARE: Final = 0.01
_THROTTLED = re.compile(rb"HTTP 429, retrying")


@dataclass(frozen=True, slots=True)
class Config:
    """The sizes of one run (the defaults are the benchmark's)."""

    awards: int = 20_000
    hosts: int = 4
    rate: int = 100
    burst: int = 10
    round_trip: float = 0.05
    workers: int = 3
    processes: int = 2
    compare: bool = True

    @property
    def floor(self) -> float:
        """The fastest any client can be: every award one request, at the hosts' rate."""
        return self.awards / (self.hosts * self.rate)


@dataclass
class Site:
    """One site: its host, its store and the awards it pushes."""

    host: HostProcess
    host_db: str
    api_url: str
    db_url: str
    store: Store
    tag: str


@contextlib.contextmanager
def _store_urls(directory: Path, count: int) -> Iterator[list[str]]:
    """``count`` empty stores: PostgreSQL schemas (dropped afterwards), or SQLite files."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        yield [f"sqlite:///{directory / f'store{n}.sqlite3'}" for n in range(count)]
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    schemas = [f"bench_{uuid.uuid4().hex[:12]}" for _ in range(count)]
    with admin.connect() as conn:
        for schema in schemas:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    urls = [
        make_url(base)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
        for schema in schemas
    ]
    try:
        yield urls
    finally:
        with admin.connect() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _awards(store: Store, tag: str, first: int, count: int) -> list[str]:
    """Issue awards by direct inserts (seeding is not measured), like the first award."""
    with store.transaction() as tx:
        badge = tx.badge_classes.list()[0]
        model = tx.awards.create(badge.id, f"{tag}-learner{first}@example.org")
        rows = [
            {"badge_class_id": badge.id, "hash": secrets.token_hex(20),
             "recipient_email": f"{tag}-learner{n}@example.org", "salt": model.salt,
             "issued_on": model.issued_on, "evidence": "[]", "revoked": False}
            for n in range(first + 1, first + count)
        ]  # fmt: skip
        if rows:
            tx.connection.execute(insert(store_tables.awards), rows)
        return [model.hash, *(str(row["hash"]) for row in rows)]


def _new_site(host: HostProcess, host_db: str, api_url: str, db_url: str, key: str) -> Site:
    store = Store.open(db_url, secret_key=key, migrate=True)
    add_backpack(store, api_url, api_url.rsplit("/", 1)[0], "2", email=ISSUER_EMAIL,
                 password=ISSUER_PASSWORD)  # fmt: skip
    with store.transaction() as tx:
        issuer = tx.issuers.create("Benchmark University", "https://e.org", ISSUER_EMAIL)
        tx.badge_classes.create(issuer.id, "Benchmark", "Seeded.", PNG, criteria_narrative="Go.")
    return Site(host, host_db, api_url, db_url, store, uuid.uuid4().hex[:8])


def _per_recipient(site: Site) -> Counter[str]:
    database = HostDatabase.open(site.host_db)
    try:
        with database.begin() as connection:
            rows = connection.execute(select(host_tables.assertions.c.recipient_identity))
            return Counter(r[0] for r in rows if str(r[0]).startswith(f"{site.tag}-"))
    finally:
        database.close()


def _check(sites: list[Site], each: int, first: int) -> tuple[int, int]:
    """Duplicates and lost awards of ``each`` awards per site numbered from ``first``."""
    duplicates = lost = 0
    for site in sites:
        held = _per_recipient(site)
        for n in range(first, first + each):
            seen = held.get(f"{site.tag}-learner{n}@example.org", 0)
            duplicates += max(0, seen - 1)
            lost += seen == 0
    return duplicates, lost


class Workers:
    """``openbackpack worker`` processes serving every site's store."""

    def __init__(self, sites: list[Site], key: str, directory: Path, config: Config) -> None:
        prefix = f"obbench-{uuid.uuid4().hex[:8]}"
        self.environment = {
            **os.environ, "OPENBACKPACK_BROKER": REDIS, "OPENBACKPACK_JOBS_PREFIX": prefix,
            "OPENBACKPACK_SECRET_KEY": key, "OPENBACKPACK_VISIBILITY_TIMEOUT": "15",
            "OPENBACKPACK_ALLOWED_HOSTS": "127.0.0.0/8", "OPENBACKPACK_ALLOWED_PORTS": "*",
        }  # fmt: skip
        self.command = [sys.executable, "-m", "openbackpack", "--db", sites[0].db_url, "worker",
                        "--concurrency", str(config.processes), "--local"]  # fmt: skip
        for site in sites[1:]:
            self.command += ["--store", site.db_url]
        self.directory = directory
        self.processes: list[subprocess.Popen[bytes]] = []
        self.settings = JobSettings.from_environment(
            db_urls=tuple(s.db_url for s in sites), environ=self.environment
        )

    def start(self) -> None:
        """Start one more worker, in its own process group, logging to its own file."""
        log = self.directory / f"worker{len(self.processes)}.log"
        with open(log, "wb") as out:
            worker = subprocess.Popen(  # noqa: S603 - our own interpreter and command
                self.command,
                env=self.environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(worker)

    def kill(self, number: int) -> None:
        """SIGKILL a worker with its pool processes."""
        os.killpg(self.processes[number].pid, signal.SIGKILL)
        self.processes[number].wait(10)

    def stop(self) -> None:
        """Stop every worker (warm shutdown, then kill)."""
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def throttled(self) -> int:
        """The 429s the workers' clients met, from their logs."""
        return sum(len(_THROTTLED.findall(p.read_bytes())) for p in self.directory.glob("*.log"))


def _progress(sites: list[Site], jobs: list[str]) -> tuple[int, bool]:
    done, finished = 0, True
    for site, job_id in zip(sites, jobs, strict=True):
        with site.store.transaction() as tx:
            job = tx.jobs.get(job_id)
        done += job.done + job.failed
        finished = finished and job.finished
    return done, finished


def _distributed(
    sites: list[Site], key: str, directory: Path, config: Config
) -> tuple[float, int, bool]:
    each = config.awards // config.hosts
    hashes = [_awards(site.store, site.tag, 1, each) for site in sites]
    deployment = Workers(sites, key, directory, config)
    for _ in range(config.workers):
        deployment.start()
    try:
        app = create_celery_app(deployment.settings)
        started = time.perf_counter()
        # Four sites queue at once, as they would: their chunks interleave on the queue.
        with ThreadPoolExecutor(max_workers=len(sites)) as pool:
            jobs = list(pool.map(
                lambda pair: enqueue_push(app, deployment.settings, pair[0].store, None, pair[1],
                                          issuer_base_url=ISSUER_BASE,
                                          store_url=pair[0].db_url).id,
                zip(sites, hashes, strict=True),
            ))  # fmt: skip
        killed = False
        deadline = time.monotonic() + 60 * config.floor + 120
        while time.monotonic() < deadline:
            done, finished = _progress(sites, jobs)
            if finished:
                break
            if not killed and done >= config.awards // 2:
                progress(f"{NAME}: {done} done, killing worker 0 (SIGKILL) and restarting it")
                deployment.kill(0)
                deployment.start()
                killed = True
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        if not _progress(sites, jobs)[1]:
            raise RuntimeError(f"{NAME}: the jobs did not finish in time")
    finally:
        deployment.stop()
    return seconds, deployment.throttled(), killed


def _in_process(sites: list[Site], config: Config) -> tuple[float, StatusCounter]:
    each = config.awards // config.hosts
    first = 1 + each
    hashes = [_awards(site.store, site.tag, first, each) for site in sites]
    counter = StatusCounter()

    def push(site: Site, mine: list[str]) -> None:
        import httpx2

        http = httpx2.Client(timeout=10.0, event_hooks={"response": [counter]})
        limiter = RateLimiter(config.rate, burst=config.burst)
        with BackpackClient(http_client=http, rate_limit=limiter) as client:
            push_awards(site.store, None, mine, issuer_base_url=ISSUER_BASE, client=client,
                        concurrency=16)  # fmt: skip
        http.close()

    threads = [threading.Thread(target=push, args=pair) for pair in zip(sites, hashes, strict=True)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, counter


@contextlib.contextmanager
def _hosts(directory: Path, config: Config) -> Iterator[list[tuple[HostProcess, str, str]]]:
    faults = ("--rate-limit", str(config.rate), "--burst", str(config.burst), "--retry-after", "1")
    with contextlib.ExitStack() as stack:
        found = []
        for n in range(config.hosts):
            db = f"sqlite:///{directory / f'host{n}.sqlite3'}"
            add_host_users(db, (ISSUER_EMAIL, ISSUER_PASSWORD))
            host = stack.enter_context(host_process(db, directory / f"host{n}.log", *faults))
            proxied = stack.enter_context(proxy_process(host.base_url, config.round_trip))
            found.append((host, db, proxied + "/v2"))
        yield found


def measure(config: Config) -> Result:
    """Run the benchmark at the sizes of ``config``."""
    key = SecretBox.generate_key()
    os.environ.setdefault("OPENBACKPACK_ALLOWED_HOSTS", "127.0.0.0/8")
    os.environ.setdefault("OPENBACKPACK_ALLOWED_PORTS", "*")
    with (
        workdir() as directory,
        _hosts(directory, config) as hosts,
        _store_urls(directory, config.hosts) as urls,
    ):
        sites = [_new_site(h, db, api, url, key) for (h, db, api), url in zip(hosts, urls,
                 strict=True)]  # fmt: skip
        for site in sites:
            with site.store.transaction() as tx:
                provider = tx.providers.primary()
                assert provider is not None
                tx.providers.set_rate_limit(provider.id, config.rate, config.burst)
            # The issuer, the badge class and the token, before anything is timed.
            push_awards(site.store, None, _awards(site.store, site.tag, 0, 1),
                        issuer_base_url=ISSUER_BASE)  # fmt: skip
        progress(f"{NAME}: {config.awards} awards through {config.workers} workers")
        seconds, throttled, killed = _distributed(sites, key, directory, config)
        each = config.awards // config.hosts
        duplicates, lost = _check(sites, each, 1)
        baseline, counter = (0.0, StatusCounter())
        if config.compare:
            progress(f"{NAME}: the same {config.awards} awards through the in-process push")
            baseline, counter = _in_process(sites, config)
        for site in sites:
            site.store.close()
    return _result(config, seconds, throttled, killed, duplicates, lost, baseline, counter)


def _result(
    config: Config, seconds: float, throttled: int, killed: bool, duplicates: int, lost: int,
    baseline: float, counter: StatusCounter,
) -> Result:  # fmt: skip
    share = throttled / (config.awards + throttled)
    met = (
        seconds <= MAX_FLOOR_MULTIPLE * config.floor
        and duplicates == 0 and lost == 0 and share < MAX_429_SHARE
    )  # fmt: skip
    return Result(
        name=NAME, openbackpack=seconds, baseline=baseline, unit="s",
        ratio=seconds / config.floor,
        target=f"<= {MAX_FLOOR_MULTIPLE} x floor, 0 duplicates, 0 lost, 429s < "
        f"{MAX_429_SHARE:.0%}",
        met=met,
        extra={
            "awards": config.awards, "hosts": config.hosts, "host_rate_limit": config.rate,
            "burst": config.burst, "round_trip_s": config.round_trip, "floor_s": config.floor,
            "of_floor": seconds / config.floor, "workers": config.workers,
            "processes_per_worker": config.processes, "worker_killed": killed,
            "duplicates": duplicates, "lost": lost, "http_429": throttled,
            "http_429_share": share, "baseline_is": "in-process push_awards, 4 sites at once",
            "baseline_http_429": counter.counts[429], "baseline_requests": counter.total,
            "load_average": os.getloadavg(),
        },
    )  # fmt: skip


def run() -> list[Result]:
    """The full-size run: 20,000 awards, 4 hosts, 3 workers, one killed midway."""
    return [measure(Config())]
