"""expanded_read: a learner's collection of 200 badges read on a page view, 50 ms away.

Reading a collection "expanded" is 1 + N requests: the collection, then each assertion with
its badge class and issuer. No rate limit here: the round trip is the cost.

* openbackpack: ``BackpackApi.get_badges(collection, expanded=True)`` with
  ``concurrency=32`` over a fresh pooled client (connections are opened as part of the
  measured read; the token is cached in the store, as for a logged-in learner).
* baseline, as Moodle works (W8): the same call with ``concurrency=1`` over a client that
  keeps no connection, so each of the 201 requests opens a new one, one after another.

Also reported: the same read at other concurrencies, default 8 included.
"""

from __future__ import annotations

import time
from typing import Final

import httpx2

from benchmarks._processes import host_process, proxy_process
from benchmarks._report import Result, progress, speedup
from benchmarks._seed import (
    EARNER_EMAIL,
    EARNER_PASSWORD,
    ISSUER_EMAIL,
    ISSUER_PASSWORD,
    add_host_users,
    award_many,
    create_collection,
    create_issuer_and_badge,
    user_store,
    workdir,
)
from openbackpack import BackpackApi, CollectionBadges
from openbackpack.client import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, BackpackClient
from openbackpack.store import BackpackAccount, Provider, Store

__all__ = ["run"]

NAME: Final = "expanded_read"
ASSERTIONS: Final = 200
ROUND_TRIP: Final = 0.05
CONCURRENCY: Final = 32
OTHER_CONCURRENCIES: Final = (DEFAULT_CONCURRENCY, 16, 64)
MIN_SPEEDUP: Final = 20.0
OWNER: Final = "learner"


def _read(
    store: Store, provider: Provider, account: BackpackAccount, client: BackpackClient, limit: int
) -> tuple[float, CollectionBadges]:
    with BackpackApi(provider, account, store=store, client=client, concurrency=limit) as api:
        collection = api.get_collection_record()[0]  # the collection the learner chose
        started = time.perf_counter()
        badges = api.get_badges(collection, expanded=True)
        elapsed = time.perf_counter() - started
    assert isinstance(badges, CollectionBadges)
    if len(badges.badges) != ASSERTIONS or badges.failures:
        raise RuntimeError(f"read {len(badges.badges)} badges, {len(badges.failures)} failed")
    return elapsed, badges


def _timed(store: Store, provider: Provider, account: BackpackAccount, limit: int) -> float:
    # A fresh pool each time: opening the connections is part of the page view.
    with BackpackClient() as client:
        return _read(store, provider, account, client, limit)[0]


def _moodle(store: Store, provider: Provider, account: BackpackAccount) -> float:
    no_keep_alive = httpx2.Limits(max_keepalive_connections=0)
    with (
        httpx2.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=True, limits=no_keep_alive) as http,
        BackpackClient(http_client=http) as client,
    ):
        return _read(store, provider, account, client, 1)[0]


def _seed(api_url: str) -> tuple[str, list[str]]:
    """Award the earner 200 badges; return the earner's token and the awards' ids."""
    with BackpackClient() as client:
        remote = create_issuer_and_badge(client, api_url)
        awards = award_many(client, api_url, remote, [EARNER_EMAIL] * ASSERTIONS)
        token = client.password_grant(api_url, EARNER_EMAIL, EARNER_PASSWORD).access_token
        return token, awards


def run() -> list[Result]:
    """Measure the baseline and openbackpack on the same collection; one result."""
    with workdir() as directory:
        db = f"sqlite:///{directory / 'host.sqlite3'}"
        add_host_users(db, (ISSUER_EMAIL, ISSUER_PASSWORD), (EARNER_EMAIL, EARNER_PASSWORD))
        with host_process(db, directory / "host.log") as host:
            progress(f"{NAME}: seeding {ASSERTIONS} awards and a collection")
            token, awards = _seed(host.api_url)
            with BackpackClient() as client:
                collection = create_collection(client, host.api_url, token, awards)
            with proxy_process(host.base_url, ROUND_TRIP) as proxied:
                store, provider, account = user_store(
                    directory / "store.sqlite3", proxied + "/v2", OWNER
                )
                with BackpackApi(provider, account, store=store) as api:
                    api.authenticate()  # the learner is logged in: the token is cached
                    api.set_backpack_collections(None, [collection])
                progress(f"{NAME}: baseline, 1 + {ASSERTIONS} requests one after another")
                baseline = _moodle(store, provider, account)
                progress(f"{NAME}: openbackpack at concurrency {CONCURRENCY} and others")
                cpu = (time.process_time(), host.cpu_seconds())
                ours = _timed(store, provider, account, CONCURRENCY)
                cpu = (time.process_time() - cpu[0], host.cpu_seconds() - cpu[1])
                others = {str(n): _timed(store, provider, account, n) for n in OTHER_CONCURRENCIES}
                store.close()
    return [_result(ours, baseline, others, cpu)]


def _result(
    ours: float, baseline: float, others: dict[str, float], cpu: tuple[float, float]
) -> Result:
    ratio = speedup(baseline, ours)
    return Result(
        name=NAME,
        openbackpack=ours,
        baseline=baseline,
        unit="s",
        ratio=ratio,
        target=f">= {MIN_SPEEDUP:g}x faster than the sequential 1 + N baseline",
        met=ratio >= MIN_SPEEDUP,
        extra={
            "assertions": ASSERTIONS,
            "requests": 1 + ASSERTIONS,
            "round_trip_s": ROUND_TRIP,
            "concurrency": CONCURRENCY,
            "seconds_at_concurrency": others,
            # A round trip to connect, one for the collection, one per wave of assertions.
            "round_trip_floor_s": ROUND_TRIP * (2 + -(-ASSERTIONS // CONCURRENCY)),
            "client_cpu_s": cpu[0],
            "host_cpu_s": cpu[1],
        },
    )
