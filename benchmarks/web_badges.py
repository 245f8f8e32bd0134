"""web_badges: the learner's external-badges page, 200 badges in 3 collections, 50 ms away.

The page (``GET /badges`` of :func:`openbackpack.web.create_web_app`, served on loopback in
this process and fetched over HTTP) against the read of the same badges by
:func:`openbackpack.services.external_badges` alone, in the same run, with the same store,
account and shared client:

* cold: the account's badge cache is emptied before each measurement, so both read every
  collection and assertion from the host, through the 50 ms round trip.
* warm: the cache is fresh, so both read it from the store and nobody calls the host.

Target: the page adds at most 20 % (page time / ``external_badges`` time <= 1.2), cold and
warm. Each is the median of alternating rounds (page, alone, page, alone...).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx2
from starlette.requests import Request

from benchmarks._processes import host_process, proxy_process
from benchmarks._report import Result, progress
from benchmarks._seed import (
    EARNER_EMAIL,
    EARNER_PASSWORD,
    ISSUER_EMAIL,
    ISSUER_PASSWORD,
    add_host_users,
    award_many,
    create_issuer_and_badge,
    user_store,
    workdir,
)
from openbackpack.client import BackpackClient
from openbackpack.protocols import badgr
from openbackpack.serve import serve_in_thread
from openbackpack.services import MaildirMailer, external_badges, select_collections
from openbackpack.store import BackpackAccount, Store
from openbackpack.web import WebSettings, WebUser, create_web_app

__all__ = ["run"]

NAME: Final = "web_badges"
BADGES: Final = 200
COLLECTIONS: Final = 3
ROUND_TRIP: Final = 0.05
COLD_ROUNDS: Final = 5
WARM_ROUNDS: Final = 30
MAX_RATIO: Final = 1.2
OWNER: Final = "learner"
_BADGE_ITEM: Final = '<li class="badge">'


@dataclass(frozen=True)
class _Setup:
    store: Store
    account: BackpackAccount
    client: BackpackClient
    page_url: str
    badges: int


def _published_collection(
    client: BackpackClient, api_url: str, token: str, name: str, assertions: list[str]
) -> str:
    created = client.fetch(
        badgr.route("backpack.collections.create"), api_url,
        data={"name": name, "published": True}, token=token,
    ).json()["result"][0]  # fmt: skip
    client.fetch(
        badgr.route("backpack.collections.update"), api_url,
        params={"collection": created["entityId"]},
        data={"name": name, "published": True, "assertions": assertions}, token=token,
    )  # fmt: skip
    return str(created["entityId"])


def _seed_host(api_url: str, badges: int, collections: int) -> list[str]:
    """Award the earner ``badges`` badges split over ``collections`` published collections."""
    with BackpackClient() as client:
        remote = create_issuer_and_badge(client, api_url)
        awards = award_many(client, api_url, remote, [EARNER_EMAIL] * badges)
        token = client.password_grant(api_url, EARNER_EMAIL, EARNER_PASSWORD).access_token
        return [
            _published_collection(client, api_url, token, f"Collection {n}", awards[n::collections])
            for n in range(collections)
        ]


def _empty_cache(store: Store, account: BackpackAccount) -> None:
    with store.transaction() as tx:
        tx.badge_cache.delete(account.id)


def _time_page(setup: _Setup, http: httpx2.Client) -> float:
    started = time.perf_counter()
    answer = http.get(setup.page_url)
    elapsed = time.perf_counter() - started
    shown = answer.text.count(_BADGE_ITEM)
    if answer.status_code != 200 or shown != setup.badges:
        raise RuntimeError(f"the page answered {answer.status_code} with {shown} badges")
    return elapsed


def _time_alone(setup: _Setup) -> float:
    started = time.perf_counter()
    found = external_badges(setup.store, OWNER, client=setup.client)
    elapsed = time.perf_counter() - started
    if len(found.badges) != setup.badges or found.failures:
        raise RuntimeError(f"read {len(found.badges)} badges, {len(found.failures)} failed")
    return elapsed


def _rounds(
    setup: _Setup, http: httpx2.Client, rounds: int, before: Callable[[], None]
) -> tuple[list[float], list[float]]:
    page: list[float] = []
    alone: list[float] = []
    for _ in range(rounds):
        before()
        page.append(_time_page(setup, http))
        before()
        alone.append(_time_alone(setup))
    return page, alone


@contextmanager
def _pages(store: Store, client: BackpackClient, directory: Path) -> Iterator[str]:
    def identify(_: Request) -> WebUser:
        return WebUser(OWNER)

    settings = WebSettings(
        secret_key="benchmark-secret-key-of-the-pages",  # noqa: S106 - a throwaway key
        issuer_base_url="http://127.0.0.1:9/issuer",
        mailer=MaildirMailer(directory / "outbox"),
        client=client,
    )
    with serve_in_thread(create_web_app(store, settings, identify=identify)) as url:
        yield url + "/badges"


def measure(
    *,
    badges: int = BADGES,
    collections: int = COLLECTIONS,
    round_trip: float = ROUND_TRIP,
    cold_rounds: int = COLD_ROUNDS,
    warm_rounds: int = WARM_ROUNDS,
) -> list[Result]:
    """Seed a host, then time the page and ``external_badges`` alone, cold and warm."""
    with workdir() as directory:
        db = f"sqlite:///{directory / 'host.sqlite3'}"
        add_host_users(db, (ISSUER_EMAIL, ISSUER_PASSWORD), (EARNER_EMAIL, EARNER_PASSWORD))
        with host_process(db, directory / "host.log") as host:
            progress(f"{NAME}: seeding {badges} awards in {collections} collections")
            chosen = _seed_host(host.api_url, badges, collections)
            with proxy_process(host.base_url, round_trip) as proxied:
                store, _, account = user_store(directory / "store.sqlite3", proxied + "/v2", OWNER)
                with (
                    BackpackClient() as client,
                    _pages(store, client, directory) as page_url,
                    httpx2.Client(timeout=60) as http,
                ):
                    select_collections(store, OWNER, list(chosen), client=client)
                    setup = _Setup(store, account, client, page_url, badges)
                    # Warm-up: the token is cached and the pools hold connections.
                    _time_alone(setup)
                    _time_page(setup, http)
                    progress(f"{NAME}: cold, {cold_rounds} rounds through {round_trip}s")
                    cold = _rounds(setup, http, cold_rounds, lambda: _empty_cache(store, account))
                    progress(f"{NAME}: warm, {warm_rounds} rounds")
                    warm = _rounds(setup, http, warm_rounds, lambda: None)
                store.close()
    extra = {"badges": badges, "collections": collections, "round_trip_s": round_trip}
    return [_result("cold", *cold, extra), _result("warm", *warm, extra)]


def _result(
    cache: str, page: list[float], alone: list[float], extra: Mapping[str, object]
) -> Result:
    ours, baseline = statistics.median(page), statistics.median(alone)
    ratio = ours / baseline
    return Result(
        name=NAME,
        openbackpack=ours,
        baseline=baseline,
        unit="s",
        ratio=ratio,
        target=f"page <= {MAX_RATIO:g} x external_badges alone",
        met=ratio <= MAX_RATIO,
        extra={
            "cache": cache,
            **extra,
            "rounds": len(page),
            "page_rounds_s": page,
            "alone_rounds_s": alone,
            "load_average": list(os.getloadavg()),
        },
    )


def run() -> list[Result]:
    """The full-size measurement: 200 badges, 3 collections, 50 ms round trip."""
    return measure()
