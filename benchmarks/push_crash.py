"""push_crash: a bulk push killed with SIGKILL ten times, restarted until it is done.

2,000 awards go to the site backpack through a 50 ms round trip, to a host that allows 200
requests per second (as ``bulk_push``), pushed by a real subprocess
(``benchmarks._crash_child``: 16 at a time, paced at the host's rate). At random moments
after its first award is done, the process is killed with SIGKILL; a new one is started each time
(a new interpreter, a warm spare, or a child forked from a parent that imported the package)
and the last one runs to the end. Then the host's own database is read: how many
assertions each award has there. Targets: no duplicate (an award with two assertions), none
lost (an award with none, or without a mapping in the store), and the whole wall time,
restarts included, within 1.5 x the 10 s floor.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.process
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final, Literal, Protocol

from sqlalchemy import func, select

from benchmarks._processes import host_process, proxy_process
from benchmarks._report import Result, progress
from benchmarks._seed import ISSUER_EMAIL, ISSUER_PASSWORD, add_host_users, site_store, workdir
from benchmarks.bulk_push import CONCURRENCY, HOST_BURST, ISSUER_BASE, RATE, ROUND_TRIP, _registry
from openbackpack.client import BackpackClient
from openbackpack.host import HostDatabase
from openbackpack.host import _schema as host_tables
from openbackpack.services import push_awards
from openbackpack.store import IdentifierKind, Store

__all__ = ["CrashRun", "measure", "run"]

NAME: Final = "push_crash"
AWARDS: Final = 2000
KILLS: Final = 10
MAX_FLOOR_MULTIPLE: Final = 1.5
SEED: Final = 13
# How long a process pushes before it is killed: long enough that each run gets work done.
KILL_AFTER: Final = (0.1, 1.0)
_CHILD_TIMEOUT: Final = 300.0


Restart = Literal["cold", "standby", "forked"]
"""How each next pushing process starts: a new interpreter, a warm spare started ahead, or
a child forked from a parent that has imported the package (a prefork pool)."""

_RESTARTS: Final[dict[Restart, str]] = {
    "cold": "new interpreter",
    "standby": "warm spare",
    "forked": "forked from a parent with the package imported",
}


@dataclass(slots=True)
class CrashRun:
    """What one push_crash run saw."""

    awards: int
    restart: Restart = "cold"
    """How each next process started (see :data:`Restart`)."""
    kills: int = 0
    processes: int = 0
    seconds: float = 0.0
    startup_s: float = 0.0
    """Wall time between asking for a process and its first award done (all of them)."""
    duplicates: int = 0
    lost: int = 0
    unmapped: int = 0
    last: dict[str, Any] = field(default_factory=dict)
    """The counts printed by the process that finished."""


class _Pusher(Protocol):
    """One pushing process, as the kill loop drives it."""

    def started(self) -> None:
        """Return once the process says its first award is done."""

    def finished(self, timeout: float) -> bool:
        """Whether the process exits within ``timeout`` seconds."""

    def kill(self) -> None:
        """SIGKILL it (no cleanup, no flush, no atexit) and reap it."""

    def counts(self) -> dict[str, Any]:
        """Wait for the end; the report's counts it gave."""


@dataclass(slots=True)
class _Interpreter:
    """A pushing process that is a new interpreter (``benchmarks._crash_child``)."""

    process: subprocess.Popen[str]

    def started(self) -> None:
        _expect(self.process, "pushing")

    def finished(self, timeout: float) -> bool:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill(self) -> None:
        self.process.kill()
        self.process.communicate()

    def counts(self) -> dict[str, Any]:
        out, _ = self.process.communicate(timeout=_CHILD_TIMEOUT)
        if self.process.returncode != 0:
            raise RuntimeError(f"the last pushing process failed ({self.process.returncode})")
        return dict(json.loads(out.strip().splitlines()[-1]))


@dataclass(slots=True)
class _Forked:
    """A pushing process forked from the fork server; it answers through a pipe."""

    process: multiprocessing.process.BaseProcess
    answers: Connection

    def started(self) -> None:
        try:
            said = self.answers.recv() if self.answers.poll(_CHILD_TIMEOUT) else None
        except EOFError:  # it died before its first award
            said = None
        if said != "pushing":
            self.kill()
            raise RuntimeError("the forked pushing process did not say it was pushing")

    def finished(self, timeout: float) -> bool:
        self.process.join(timeout)
        return self.process.exitcode is not None

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.answers.close()

    def counts(self) -> dict[str, Any]:
        try:
            counts = self.answers.recv()
        except EOFError:
            counts = None
        self.process.join(_CHILD_TIMEOUT)
        self.answers.close()
        if self.process.exitcode != 0 or not isinstance(counts, dict):
            raise RuntimeError(f"the last pushing process failed ({self.process.exitcode})")
        return counts


class _Processes:
    """Starts pushing processes in the way ``restart`` names."""

    def __init__(self, store_url: str, listing: Path, log: Path, *, restart: Restart) -> None:
        self.args = [store_url, ISSUER_BASE, str(listing), str(RATE), str(CONCURRENCY)]
        self.log = log
        self.restart = restart
        self.spare: subprocess.Popen[str] | None = None
        self.forks = multiprocessing.get_context("forkserver")
        if restart == "forked":
            # The server itself starts with the first child: that first start is cold.
            self.forks.set_forkserver_preload(["benchmarks._crash_forkserver"])

    def _spawn(self) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "benchmarks._crash_child", *self.args]
        if self.restart == "standby":
            command.append("--standby")
        with open(self.log, "a", encoding="utf-8") as errors:
            return subprocess.Popen(  # noqa: S603 - our own interpreter and module
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )

    def _fork(self) -> _Forked:
        from benchmarks._crash_forkserver import forked

        ours, theirs = self.forks.Pipe(duplex=False)
        process = self.forks.Process(target=forked, args=(theirs, self.args), daemon=True)
        process.start()
        theirs.close()
        return _Forked(process, ours)

    def start(self, *, more: bool) -> _Pusher:
        """A process that has started pushing; with a spare, the next one warms up meanwhile."""
        pusher: _Pusher
        if self.restart == "forked":
            pusher = self._fork()
            pusher.started()
            return pusher
        process = self.spare if self.spare is not None else self._spawn()
        self.spare = None
        assert process.stdin is not None
        if self.restart == "standby":
            _expect(process, "ready")
            process.stdin.write("go\n")
            process.stdin.flush()
            # The next spare warms up from now, while this one opens the store and pushes:
            # its imports take longer than the shortest runs between kills.
            if more:
                self.spare = self._spawn()
        pusher = _Interpreter(process)
        pusher.started()
        return pusher

    def close(self) -> None:
        """Stop a spare that was not needed."""
        if self.spare is not None:
            self.spare.kill()
            self.spare.communicate()


def _expect(process: subprocess.Popen[str], word: str) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != word:
        process.kill()
        raise RuntimeError(f"the pushing process did not say {word!r}: {line!r}")


def _push_until_done(
    processes: _Processes, kills: int, kill_after: tuple[float, float], crash: CrashRun
) -> None:
    chance = random.Random(SEED)  # noqa: S311 - kill moments, not secrets
    started = time.perf_counter()
    try:
        while True:
            spawned = time.perf_counter()
            pusher = processes.start(more=crash.kills < kills)
            crash.processes += 1
            crash.startup_s += time.perf_counter() - spawned
            if crash.kills < kills and not pusher.finished(chance.uniform(*kill_after)):
                pusher.kill()
                crash.kills += 1
                continue
            crash.last = pusher.counts()
            break
    finally:
        processes.close()
    crash.seconds = time.perf_counter() - started


def _count_at_host(db_url: str, crash: CrashRun, recipients: list[str]) -> None:
    database = HostDatabase.open(db_url, migrate=False)
    try:
        with database.begin() as connection:
            a = host_tables.assertions.c
            rows = connection.execute(
                select(a.recipient_identity, func.count()).group_by(a.recipient_identity)
            )
            per_recipient = Counter({row[0]: row[1] for row in rows})
    finally:
        database.close()
    crash.duplicates = sum(max(0, per_recipient[r] - 1) for r in recipients)
    crash.lost = sum(1 for r in recipients if per_recipient[r] == 0)


def measure(
    awards: int = AWARDS,
    kills: int = KILLS,
    kill_after: tuple[float, float] = KILL_AFTER,
    *,
    restart: Restart = "cold",
) -> CrashRun:
    """Push ``awards`` awards, killing the pushing process ``kills`` times; what it left.

    Each kill comes a random ``kill_after`` seconds after the process starts pushing (a
    process that finishes first is not killed). ``restart`` says how each next process
    starts: ``cold``, a new interpreter; ``standby``, one started (imports done) while the
    current one pushes and told to go after the kill; ``forked``, a child of a fork server
    that imported the package once, as a prefork pool replaces a killed child.
    """
    crash = CrashRun(awards, restart=restart)
    with workdir() as directory:
        db = f"sqlite:///{directory / 'host.sqlite3'}"
        add_host_users(db, (ISSUER_EMAIL, ISSUER_PASSWORD))
        faults = ("--rate-limit", str(RATE), "--burst", str(HOST_BURST), "--retry-after", "1")
        with (
            host_process(db, directory / "host.log", *faults) as host,
            proxy_process(host.base_url, ROUND_TRIP) as proxied,
        ):
            store_path = directory / "store.sqlite3"
            store = site_store(store_path, proxied + "/v2")
            hashes = _registry(store, 1 + awards)
            progress(f"{NAME}: pushing the issuer and badge class (and caching the token)")
            with BackpackClient() as client:
                push_awards(store, None, hashes[:1], issuer_base_url=ISSUER_BASE, client=client)
            listing = directory / "awards.txt"
            listing.write_text("\n".join(hashes[1:]), encoding="ascii")
            progress(f"{NAME}: {awards} awards, killing the pushing process {kills} times")
            processes = _Processes(
                f"sqlite:///{store_path}", listing, directory / "child.log", restart=restart
            )
            _push_until_done(processes, kills, kill_after, crash)
            crash.unmapped = _unmapped(store, hashes[1:])
            store.close()
            # The host's own record: one assertion per award, whatever the client believes.
            recipients = [f"learner{n}@example.org" for n in range(1, 1 + awards)]
            _count_at_host(db, crash, recipients)
    return crash


def _unmapped(store: Store, hashes: list[str]) -> int:
    with store.transaction() as tx:
        primary = tx.providers.primary()
        assert primary is not None
        mapped = tx.identifiers.get_many(primary.id, IdentifierKind.ASSERTION, hashes)
    return len(hashes) - len(mapped)


def run() -> list[Result]:
    """2,000 awards, 10 kills, three times: cold, warm spare, forked; one result each."""
    return [_result(measure(restart=restart)) for restart in _RESTARTS]


def _result(crash: CrashRun) -> Result:
    floor = AWARDS / RATE
    met = (
        crash.duplicates == 0
        and crash.lost == 0
        and crash.unmapped == 0
        and crash.seconds <= MAX_FLOOR_MULTIPLE * floor
    )
    return Result(
        name=NAME + ("" if crash.restart == "cold" else f"_{crash.restart}"),
        openbackpack=crash.seconds,
        baseline=floor,
        unit="s",
        ratio=crash.seconds / floor,
        target=(
            f"0 duplicates, 0 lost, wall time <= {MAX_FLOOR_MULTIPLE} x the floor "
            "(restarts included)"
        ),
        met=met,
        extra={
            "awards": crash.awards,
            "restart": _RESTARTS[crash.restart],
            "kills": crash.kills,
            "processes": crash.processes,
            "duplicates": crash.duplicates,
            "lost": crash.lost,
            "unmapped": crash.unmapped,
            "floor_s": floor,
            "startup_s": crash.startup_s,
            "pushing_s": crash.seconds - crash.startup_s,
            "last_process": crash.last,
            "round_trip_s": ROUND_TRIP,
            "host_rate_limit": RATE,
            "concurrency": CONCURRENCY,
        },
    )
