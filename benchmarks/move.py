"""move: 500 badges from a Badge Connect account into an Open Badges 3.0 account, re-issued.

Two result lines, one per target of the same 500 badges:

* ``move``: into an Open Badges 3.0 API account. The badges are 2.0 assertions, which a 3.0
  host does not take; the mover is the site that issued them (its store holds the awards and
  signing keys), so ``move_badges(..., reissue=...)`` re-issues each as a signed 3.0
  credential (eddsa-rdfc-2022, the 2.0 assertion as evidence) and upserts it; the host
  verifies each as it arrives (fetching the issuer's status list).
* ``move_badgr``: into a Badgr v2 backpack, which imports each hosted assertion by URL
  (fetching it and its badge class from the issuer).

Both hosts run in their own processes behind a 50 ms round trip, each limited to 100 requests
per second (a token bucket); the issuer whose hosted documents everything fetches runs in a
third process behind the same round trip, unlimited. The move verifies every badge (fetching
it from the issuer), sends it, reads the target back and verifies each copy again.

The issuer names itself by ``did:key`` (``create_issuer_app(..., did_method="key")``, and the
re-issue likewise): a ``did:web`` resolves over https only, and the loopback issuer speaks
http, so neither the 3.0 host nor the mover's proof could check the issuer's key. Every award
has a salt of its own: a 3.0 host keeps one credential per issuer, achievement and recipient,
and 500 awards of one badge class to one email under one salt would replace each other.

The floor is the time the busier host needs, at its rate limit, for the requests the move sent
it (counted). Target: wall time within 1.3x that floor, no badge lost, none duplicated.
"""

from __future__ import annotations

import contextlib
import html
import json
import multiprocessing
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any, Final
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
from fastapi import FastAPI
from sqlalchemy import insert, select

from benchmarks._processes import host_process, process_cpu_seconds, proxy_process
from benchmarks._report import Result, progress
from benchmarks._seed import (
    EARNER_EMAIL,
    EARNER_PASSWORD,
    PNG,
    add_host_users,
    loopback_allowed,
    workdir,
)
from openbackpack.client import BackpackClient, RateLimiter
from openbackpack.host import HostDatabase
from openbackpack.host import _schema as host_tables
from openbackpack.issuer import IssuerDocuments, IssuerUrls, create_issuer_app
from openbackpack.protocols import ob3api
from openbackpack.serve import base_url_of, bind_socket, serve_in_thread
from openbackpack.services import add_backpack, begin_oauth_connection, complete_oauth_connection
from openbackpack.services.move import (
    BadgeConnectBackpack,
    BadgrBackpack,
    MoveReport,
    Ob3Backpack,
    Proof,
    client_fetch,
    connected_backpack,
    move_badges,
)
from openbackpack.store import Store
from openbackpack.store._types import utcnow

__all__ = ["run"]

NAME: Final = "move"
TARGETS: Final = {"ob3": NAME, "badgr": f"{NAME}_badgr"}
"""The result line of each target kind."""
BADGES: Final = 500
RATE: Final = 100.0
ROUND_TRIP: Final = 0.05
CONCURRENCY: Final = 48
OWNER: Final = "learner"
REDIRECT: Final = "http://127.0.0.1:8/callback"
_HIDDEN = re.compile(r'<input type=hidden name="([^"]*)" value="([^"]*)">')
_ACTION = re.compile(r'<form method=post action="([^"]*)">')


class Counting(httpx2.HTTPTransport):
    """A real transport that counts the requests sent to each origin."""

    def __init__(self) -> None:
        super().__init__(limits=httpx2.Limits(max_connections=200, max_keepalive_connections=200))
        self.origins: Counter[str] = Counter()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Count, then send."""
        with self._lock:
            self.origins[f"{request.url.scheme}://{request.url.netloc.decode()}"] += 1
        return super().handle_request(request)


def _serve_issuer(store_url: str, control: Connection) -> None:
    # Bind first, tell the parent where; learn the public base (the proxy's) before serving.
    sock = bind_socket()
    control.send(base_url_of(sock))
    base: str = control.recv()
    store = Store.open(store_url)
    app = FastAPI()
    app.mount("/issuer", create_issuer_app(store, base + "/issuer", did_method="key"))
    with serve_in_thread(app, sock=sock), contextlib.suppress(EOFError):
        control.recv()


@contextlib.contextmanager
def _issuer_process(store_url: str, round_trip: float) -> Iterator[tuple[str, int]]:
    """The store's hosted documents in a child process, behind the round trip.

    Yields their base URL and the process id.
    """
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve_issuer, args=(store_url, child), name="issuer")
    process.start()
    try:
        direct: str = parent.recv()
        with proxy_process(direct, round_trip) as proxied:
            parent.send(proxied)
            time.sleep(0.5)  # the child starts serving
            assert process.pid is not None
            yield proxied + "/issuer", process.pid
    finally:
        with contextlib.suppress(OSError):
            parent.send("stop")
        process.join(15)
        if process.is_alive():
            process.kill()


def _registry(store: Store, count: int) -> list[str]:
    with store.transaction() as tx:
        issuer = tx.issuers.create("Benchmark University", "https://e.org", "i@example.org")
        badge = tx.badge_classes.create(issuer.id, "Moved", "Seeded.", PNG, criteria_narrative="x")
        return [
            tx.awards.create(badge.id, EARNER_EMAIL, salt=f"{n:032x}").hash for n in range(count)
        ]


def _seed_source(db_url: str, store: Store, base: str, hashes: list[str]) -> None:
    """The learner's Badge Connect account holds every award, as imported badges."""
    with store.transaction() as tx:
        documents = IssuerDocuments(tx, IssuerUrls(base))
        assertions = [documents.assertion(h).to_json() for h in hashes]
    database = HostDatabase.open(db_url)
    try:
        with database.begin() as connection:
            user = connection.execute(
                select(host_tables.emails.c.user_id).where(
                    host_tables.emails.c.email == EARNER_EMAIL
                )
            ).scalar_one()
            rows = [_import_row(user, n, assertion) for n, assertion in enumerate(assertions)]
            connection.execute(insert(host_tables.imports), rows)
    finally:
        database.close()


def _import_row(user: int, n: int, assertion: dict[str, Any]) -> dict[str, Any]:
    badge = assertion["badge"]
    return {
        "entity_id": f"moved{n:017d}",
        "user_id": user,
        "source_url": assertion["id"],
        "badgeclass_eid": f"movedbc{n:015d}",
        "issuer_eid": f"movediss{n:014d}",
        "assertion_json": json.dumps(assertion),
        "badgeclass_json": json.dumps(badge),
        "issuer_json": json.dumps(badge.get("issuer") if isinstance(badge, dict) else {}),
        "recipient_identity": EARNER_EMAIL,
        "salt": f"{n:032x}",
        "issued_on": utcnow(),
        "expires": None,
        "acceptance": "Accepted",
        "created_at": utcnow(),
    }


def _consent(url: str) -> dict[str, str]:
    """Act as the learner's browser on the host's consent page; the redirect's query."""
    with httpx2.Client(timeout=30) as browser:
        page = browser.get(url)
        fields = {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(page.text)}
        action = _ACTION.search(page.text)
        assert action is not None, page.text[:500]
        form = {**fields, "email": EARNER_EMAIL, "password": EARNER_PASSWORD, "consent": "allow"}
        sent = browser.post(urljoin(url, html.unescape(action.group(1))), data=form)
    query = parse_qs(urlsplit(str(sent.headers["location"])).query)
    return {key: values[0] for key, values in query.items()}


def _connect(
    store: Store, source: str, target: str, kind: str, client: BackpackClient
) -> tuple[int, int]:
    bc = add_backpack(store, source + "/api", source, "2.1")
    url, state = begin_oauth_connection(store, OWNER, bc.id, REDIRECT, client=client)
    complete_oauth_connection(store, state, _consent(url)["code"], client=client)
    if kind == "ob3":
        ob3 = add_backpack(store, target + ob3api.API_PATH, target, "3.0")
        url, state = begin_oauth_connection(
            store, OWNER, ob3.id, REDIRECT, email=EARNER_EMAIL, client=client
        )
        complete_oauth_connection(store, state, _consent(url)["code"], client=client)
        return bc.id, ob3.id
    badgr = add_backpack(store, target + "/v2", target, "2")
    with store.transaction() as tx:
        tx.accounts.create(badgr.id, OWNER, EARNER_EMAIL, EARNER_PASSWORD)
    return bc.id, badgr.id


def _client(transport: Counting, rate: float | None) -> BackpackClient:
    return BackpackClient(
        transport=transport, rate_limit=RateLimiter(rate) if rate else None, timeout=30.0
    )


def measure(
    count: int = BADGES, rate: float = RATE, round_trip: float = ROUND_TRIP, kind: str = "ob3"
) -> dict[str, Any]:
    """Seed, move and check; the measurements (also used by the smoke test, small).

    ``kind`` is the target: ``ob3`` (an Open Badges 3.0 account, badges re-issued) or ``badgr``.
    """
    # Every host here is on loopback, at a port the default client policy refuses.
    with loopback_allowed(), workdir() as directory:
        source_db = f"sqlite:///{directory / 'source.sqlite3'}"
        target_db = f"sqlite:///{directory / 'target.sqlite3'}"
        for db in (source_db, target_db):
            add_host_users(db, (EARNER_EMAIL, EARNER_PASSWORD))
        store_url = f"sqlite:///{directory / 'store.sqlite3'}"
        store = Store.open(store_url)
        hashes = _registry(store, count)
        faults = ("--rate-limit", str(rate), "--burst", "10", "--retry-after", "1")
        with (
            _issuer_process(store_url, round_trip) as (issuer_base, issuer_pid),
            host_process(
                source_db, directory / "source.log", *faults, "--allow-private-fetch"
            ) as source_host,
            host_process(
                target_db, directory / "target.log", *faults, "--allow-private-fetch"
            ) as target_host,
            proxy_process(source_host.base_url, round_trip) as source,
            proxy_process(target_host.base_url, round_trip) as target,
        ):
            _seed_source(source_db, store, issuer_base, hashes)
            counting = Counting()
            with BackpackClient() as setup:
                bc_id, target_id = _connect(store, source, target, kind, setup)
            with (
                _client(counting, rate) as source_client,
                _client(counting, rate) as target_client,
                _client(counting, None) as issuer_client,
            ):
                origin = connected_backpack(store, OWNER, bc_id, source_client)
                into = connected_backpack(store, OWNER, target_id, target_client)
                assert isinstance(origin, BadgeConnectBackpack)
                assert isinstance(into, Ob3Backpack if kind == "ob3" else BadgrBackpack)
                progress(f"{TARGETS[kind]}: moving {count} badges")
                cpu = _cpu(source_host.pid, target_host.pid, issuer_pid)
                started = time.perf_counter()
                report = move_badges(
                    store,
                    OWNER,
                    origin,
                    into,
                    fetch=client_fetch(issuer_client),
                    concurrency=CONCURRENCY,
                    reissue=IssuerUrls(issuer_base) if kind == "ob3" else None,
                    reissue_did_method="key",
                )
                wall = time.perf_counter() - started
                cpu = {
                    name: after - cpu[name]
                    for name, after in _cpu(source_host.pid, target_host.pid, issuer_pid).items()
                }
                held = Counter(h.id for h in into.holdings())
        store.close()
    summary = _summary(report, held, hashes, counting.origins, source, target, rate, wall)
    return {**summary, **{f"cpu_s_{name}": seconds for name, seconds in cpu.items()}}


def _cpu(source: int, target: int, issuer: int) -> dict[str, float]:
    """CPU seconds used so far by the mover (this process), the two hosts and the issuer."""
    return {
        "mover": time.process_time(),
        "source_host": process_cpu_seconds(source),
        "target_host": process_cpu_seconds(target),
        "issuer": process_cpu_seconds(issuer),
    }


def _summary(
    report: MoveReport,
    held: Counter[str | None],
    hashes: list[str],
    origins: Counter[str],
    source: str,
    target: str,
    rate: float,
    wall: float,
) -> dict[str, Any]:
    # A re-issued badge is held under its re-issued credential's id, not its 2.0 id.
    wanted = {
        item.facts.id if item.reissue is None else item.reissue.credential_id
        for item in report.items
    }
    source_requests, target_requests = origins[source], origins[target]
    floor = max(source_requests, target_requests) / rate
    return {
        "wall_s": wall,
        "floor_s": floor,
        "badges": len(hashes),
        "read": len(report.items),
        "proved": sum(1 for i in report.items if i.proof is Proof.PROVED),
        "reissued": sum(1 for i in report.items if i.reissue is not None),
        "lost": len(wanted - set(held)),
        "duplicated": sum(n - 1 for n in held.values() if n > 1),
        "source_requests": source_requests,
        "target_requests": target_requests,
        "issuer_requests": sum(origins.values()) - source_requests - target_requests,
        "errors": [i.error for i in report.items if i.error][:3],
    }


def run() -> list[Result]:
    """Move 500 badges from Badge Connect to OB 3.0 (re-issued), then to Badgr v2; two results."""
    return [_result(kind) for kind in TARGETS]


def _result(kind: str) -> Result:
    """One target kind's line: wall time against the floor set by the two rate limits."""
    measured = measure(kind=kind)
    ratio = measured["wall_s"] / measured["floor_s"]
    met = (
        ratio <= 1.3
        and measured["lost"] == 0
        and measured["duplicated"] == 0
        and measured["proved"] == measured["badges"]
    )
    extra = {k: v for k, v in measured.items() if k not in ("wall_s",)}
    extra["rate_per_host"] = RATE
    extra["round_trip_s"] = ROUND_TRIP
    extra["target_kind"] = (
        "Open Badges 3.0 (this site's 2.0 badges re-issued as signed 3.0 credentials)"
        if kind == "ob3"
        else "Badgr v2 (import by URL)"
    )
    return Result(
        TARGETS[kind],
        measured["wall_s"],
        measured["floor_s"],
        "s",
        ratio,
        "wall within 1.3x the rate-limit floor; 0 lost, 0 duplicated",
        met,
        extra,
    )
