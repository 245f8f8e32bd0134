"""A world for the move tests: an issuer site serving the store, two backpack hosts, a learner.

The issuer app serves the store's registry over loopback HTTP, so hosted badges verify for
real; each test gets a fresh learner on the module's hosts, so tests never see each
other's badges.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from openbackpack.api import BackpackApi
from openbackpack.client import BackpackClient, RetryPolicy
from openbackpack.host import RunningHost
from openbackpack.issuer import CredentialIssuer, IssuerDocuments, IssuerUrls, create_issuer_app
from openbackpack.serve import base_url_of, bind_socket, serve_in_thread
from openbackpack.services import add_backpack, begin_oauth_connection, complete_oauth_connection
from openbackpack.services.move import (
    BadgeConnectBackpack,
    BadgrBackpack,
    Ob3Backpack,
    client_fetch,
    connected_backpack,
)
from openbackpack.store import Store
from tests.registry_data import PNG
from tests.services._bc import PASSWORD, consent

REDIRECT = "http://127.0.0.1:8/callback"  # the browser never follows it: consent() reads it
OWNER = "learner-7"


def dead_url() -> str:
    """An http origin where nothing listens (a host that is gone)."""
    sock = bind_socket()
    url = base_url_of(sock)
    sock.close()
    return url


@dataclass
class World:
    """The store, the issuer's base URL, the learner, and their two Badgr backpacks."""

    store: Store
    base: str
    email: str
    source_id: int
    target_id: int
    badge_id: int
    client: BackpackClient

    def award(self, email: str | None = None, **options: Any) -> str:
        """Award the registry badge (to the learner by default); return its hash."""
        with self.store.transaction() as tx:
            return tx.awards.create(self.badge_id, email or self.email, **options).hash

    def url(self, award_hash: str) -> str:
        """The hosted assertion URL of an award."""
        return IssuerUrls(self.base).assertion(award_hash)

    def document(self, award_hash: str) -> dict[str, Any]:
        """The award's OB 2.0 assertion as the issuer hosts it."""
        with self.store.transaction() as tx:
            return IssuerDocuments(tx, IssuerUrls(self.base)).assertion(award_hash).to_json()

    def credential(self, award_hash: str, base: str | None = None) -> dict[str, Any]:
        """The award's signed OB 3.0 credential (did:key), ids under ``base``."""
        with self.store.transaction() as tx:
            issuer = CredentialIssuer(tx, IssuerUrls(base or self.base), did_method="key")
            signed = issuer.credential(award_hash)
        assert isinstance(signed, dict)
        return signed

    def backpack(self, provider_id: int) -> BadgrBackpack | BadgeConnectBackpack | Ob3Backpack:
        """The learner's backpack on that provider."""
        return connected_backpack(self.store, OWNER, provider_id, self.client)

    def import_into_source(self, *hashes: str) -> None:
        """Put awards into the learner's source backpack, as the learner would."""
        side = self.backpack(self.source_id)
        assert isinstance(side, BadgrBackpack)
        with BackpackApi(side.provider, side.account, store=self.store, client=self.client) as api:
            for award_hash in hashes:
                api.import_badge_assertion(self.url(award_hash))

    def connect_badge_connect(self, host: Any) -> int:
        """Connect the learner's Badge Connect (2.1) account on ``host``; return the provider."""
        provider = add_backpack(self.store, host.base_url + "/api", host.base_url, "2.1")
        url, state = begin_oauth_connection(
            self.store, OWNER, provider.id, REDIRECT, client=self.client
        )
        query = consent(url, self.email)
        complete_oauth_connection(self.store, state, query["code"], client=self.client)
        return provider.id

    def held_ids(self, provider_id: int) -> list[str | None]:
        """The assertion ids the learner's backpack on that provider shows (with repeats)."""
        return [held.id for held in self.backpack(provider_id).holdings()]

    @property
    def fetch(self) -> Any:
        """The fetch a move verifies with."""
        return client_fetch(self.client)


@contextmanager
def issuer_site(store: Store) -> Iterator[str]:
    """Serve the store's hosted documents (did:key credentials); yield their base URL."""
    sock = bind_socket()
    base = base_url_of(sock) + "/issuer"
    app = FastAPI()
    app.mount("/issuer", create_issuer_app(store, base, did_method="key"))
    with serve_in_thread(app, sock=sock):
        yield base


def new_learner(
    store: Store, source_api: str, target_api: str, *hosts: Any
) -> tuple[str, int, int]:
    """A new learner on both hosts, connected in the store; returns (email, source, target)."""
    email = f"learner-{uuid.uuid4().hex[:10]}@example.org"
    for host in hosts:
        host.add_user(email, PASSWORD)
    ids = []
    for api_url in (source_api, target_api):
        provider = add_backpack(store, api_url, api_url.removesuffix("/v2") + "/web", "2")
        with store.transaction() as tx:
            tx.accounts.create(provider.id, OWNER, email, PASSWORD)
        ids.append(provider.id)
    return email, ids[0], ids[1]


FAST = RetryPolicy(attempts=2, initial_delay=0.001, max_delay=0.005, wait_scale=0.01)
"""Retries that cost no waiting: the tests' hosts answer at once."""


@contextmanager
def learner_world(store: Store, hosts: tuple[RunningHost, RunningHost]) -> Iterator[World]:
    """A fresh learner with a Badgr backpack on each host, and the issuer site running."""
    source, target = hosts
    with issuer_site(store) as base, BackpackClient(retry=FAST) as client:
        email, source_id, target_id = new_learner(
            store, source.api_url, target.api_url, source, target
        )
        yield World(store, base, email, source_id, target_id, registry_badge(store), client)


def registry_badge(store: Store) -> int:
    """An issuer and a badge class in the store's registry; returns the badge class id."""
    with store.transaction() as tx:
        issuer = tx.issuers.create("Example University", "https://example.org", "i@example.org")
        return tx.badge_classes.create(
            issuer.id, "Python basics", "Completed the course.", PNG, criteria_narrative="Pass."
        ).id


def past(days: int = 1) -> datetime:
    """A moment ``days`` ago."""
    return datetime.now(UTC) - timedelta(days=days)


def write_json(path: Path, document: Any) -> Path:
    """Write a JSON file; return its path."""
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@contextmanager
def dropping(host: RunningHost, creates: int) -> Iterator[None]:
    """The host answers its next ``creates`` imports or creates with success, storing nothing."""
    host.faults.black_hole_next(creates)
    try:
        yield
    finally:
        host.faults.black_hole_next(0)
