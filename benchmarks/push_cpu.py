"""push_cpu: the client CPU per pushed award, against a bare POST of the same body.

500 awards are pushed to the site backpack of a local host (no latency, no rate limit), 8 at
a time, by ``push_awards`` with its claims and mappings; then the same 500 assertion bodies
are POSTed with a bare ``httpx2`` client to the same host, the same endpoint and token, 8 at
a time. Both are measured as this process's CPU time. Target: at most 2x.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import httpx2

from benchmarks._processes import host_process
from benchmarks._report import Result, progress
from benchmarks._seed import ISSUER_EMAIL, ISSUER_PASSWORD, add_host_users, site_store, workdir
from benchmarks.bulk_push import ISSUER_BASE, _check, _registry
from openbackpack.client import BackpackClient
from openbackpack.issuer import IssuerDocuments, IssuerUrls
from openbackpack.services import push_awards
from openbackpack.store import IdentifierKind, Store

__all__ = ["run"]

NAME: Final = "push_cpu"
AWARDS: Final = 500
CONCURRENCY: Final = 8
MAX_RATIO: Final = 2.0


def _bodies(store: Store, hashes: list[str]) -> list[dict[str, Any]]:
    urls = IssuerUrls(ISSUER_BASE)
    with store.transaction() as tx:
        documents = IssuerDocuments(tx, urls)
        bodies = [documents.assertion(h, hashed=False).to_json() for h in hashes]
    for body, award_hash in zip(bodies, hashes, strict=True):
        body["recipient"] = {"identity": f"x{award_hash[:6]}@example.org", "type": "email"}
    return bodies


def _bare(api_url: str, badge_id: str, token: str, bodies: list[dict[str, Any]]) -> float:
    url = f"{api_url}/badgeclasses/{badge_id}/assertions"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx2.Client(timeout=30) as http:
        started = time.process_time()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            answers = list(pool.map(lambda b: http.post(url, json=b, headers=headers), bodies))
        spent = time.process_time() - started
    if any(a.status_code != 201 for a in answers):
        raise RuntimeError("a bare POST failed")
    return spent


def run() -> list[Result]:
    """Push 500 awards, then POST 500 bodies bare; one result (CPU ms per award)."""
    with workdir() as directory:
        db = f"sqlite:///{directory / 'host.sqlite3'}"
        add_host_users(db, (ISSUER_EMAIL, ISSUER_PASSWORD))
        with host_process(db, directory / "host.log") as host:
            api_url = host.base_url + "/v2"
            store = site_store(directory / "store.sqlite3", api_url)
            hashes = _registry(store, 1 + 2 * AWARDS)
            with BackpackClient() as client:
                _check(
                    push_awards(
                        store, None, hashes[:1], issuer_base_url=ISSUER_BASE, client=client
                    ),
                    "warm-up",
                )
                progress(f"{NAME}: openbackpack, {AWARDS} awards")
                started = time.process_time()
                report = push_awards(
                    store, None, hashes[1 : 1 + AWARDS], issuer_base_url=ISSUER_BASE,
                    client=client, concurrency=CONCURRENCY,
                )  # fmt: skip
                ours = time.process_time() - started
            _check(report, "openbackpack")
            with store.transaction() as tx:
                primary = tx.providers.primary()
                assert primary is not None
                badge_id = tx.identifiers.get(
                    primary.id, IdentifierKind.BADGE_CLASS, "badgeclass:1"
                )
                account = tx.accounts.site_account(primary.id)
                assert account is not None
                assert badge_id is not None
                cached = tx.token_cache.get(account.id)
                assert cached is not None
                token = cached.access_token.reveal()
            progress(f"{NAME}: bare httpx2 POSTs, {AWARDS} bodies")
            bare = _bare(api_url, badge_id, token, _bodies(store, hashes[1 + AWARDS :]))
            store.close()
    ours_ms, bare_ms = 1000 * ours / AWARDS, 1000 * bare / AWARDS
    return [
        Result(
            name=NAME,
            openbackpack=ours_ms,
            baseline=bare_ms,
            unit="ms CPU per award",
            ratio=ours_ms / bare_ms,
            target=f"openbackpack <= {MAX_RATIO:g}x a bare httpx2 POST",
            met=ours_ms <= MAX_RATIO * bare_ms,
            extra={"awards": AWARDS, "concurrency": CONCURRENCY},
        )
    ]
