"""A reference host on loopback, seeded once per session, and a store pointing at it."""

from __future__ import annotations

import base64
import inspect
import struct
import threading
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from openbackpack import AsyncBackpackApi, BackpackApi
from openbackpack.client import AsyncBackpackClient, BackpackClient, RetryPolicy
from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.protocols import badgr, displayer
from openbackpack.store import SITE_OWNER, BackpackAccount, Provider, Store

ISSUER_EMAIL = "issuer@example.org"
ISSUER_PASSWORD = "issuer-password"
EARNER_EMAIL = "earner@example.org"
EARNER_PASSWORD = "earner-password"
USER = "alice"

FAST = RetryPolicy(attempts=3, initial_delay=0.001, max_delay=0.005, wait_scale=0.01)
"""Real retries with waits scaled down a hundredfold (a Retry-After of 1 s waits 10 ms)."""


def png_data_uri() -> str:
    """A valid 1x1 PNG as a data URI (badge classes need an image)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00\x00"))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


def issuer_json(name: str = "Example Site") -> dict[str, Any]:
    """An issuer as Moodle's core_badges_assertion builds it."""
    return {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Issuer",
        "id": "https://moodle.example/badges/issuer_json.php?id=1",
        "name": name,
        "email": ISSUER_EMAIL,
        "url": "https://moodle.example",
    }


def badgeclass_json(name: str = "Course completion") -> dict[str, Any]:
    """A badge class as Moodle builds it, with alignments and tags."""
    return {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "BadgeClass",
        "id": "https://moodle.example/badges/badge_json.php?id=3",
        "name": name,
        "description": "Completed the course",
        "image": png_data_uri(),
        "criteria": {"id": "https://moodle.example/badges/badgeclass.php?id=3", "narrative": "Do"},
        "alignments": [{"targetName": "Skill A", "targetUrl": "https://example.org/a"}],
        "tags": ["moodle"],
    }


def assertion_json(recipient: str = EARNER_EMAIL) -> dict[str, Any]:
    """An assertion as Moodle builds it (plain identity, hashed true)."""
    return {
        "recipient": {"identity": recipient, "type": "email", "hashed": True},
        "badge": badgeclass_json(),
        "verify": {"type": "hosted", "url": "https://moodle.example/badges/assertion.php?b=x"},
        "issuedOn": "2024-01-02T03:04:05+00:00",
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": "https://moodle.example/badges/assertion.php?b=x",
    }


@dataclass
class World:
    """What the session seeded on the host."""

    host: RunningHost
    issuer_id: str
    badgeclass_id: str
    assertion_ids: list[str]
    collection_id: str
    displayer_user_id: int
    group_id: int
    empty_collection_id: str

    @property
    def api_url(self) -> str:
        """The Badgr v2 API URL (with its port)."""
        return self.host.api_url

    @property
    def displayer_url(self) -> str:
        """The Displayer backpack URL."""
        return self.host.base_url


def _result(answer: Any) -> dict[str, Any]:
    items = answer.json()["result"]
    assert isinstance(items, list)
    return dict(items[0])


def seed(host: RunningHost, client: BackpackClient) -> World:
    """Issue three badges to the earner and put them in a published collection."""
    host.add_user(ISSUER_EMAIL, ISSUER_PASSWORD)
    host.add_user(EARNER_EMAIL, EARNER_PASSWORD)
    api = host.api_url
    issuer_token = client.password_grant(api, ISSUER_EMAIL, ISSUER_PASSWORD).access_token
    issuer = _result(
        client.fetch(badgr.route("issuers.create"), api, data=issuer_json(), token=issuer_token)
    )
    badge = _result(
        client.fetch(
            badgr.route("issuer.badgeclasses.create"),
            api,
            params={"issuer": issuer["entityId"]},
            data={"name": "Seeded", "description": "Seeded badge", "image": png_data_uri()},
            token=issuer_token,
        )
    )
    awards = [
        _result(
            client.fetch(
                badgr.route("badgeclass.assertions.create"),
                api,
                params={"badgeclass": badge["entityId"]},
                data={"recipient": {"identity": EARNER_EMAIL, "type": "email"}},
                token=issuer_token,
            )
        )["entityId"]
        for _ in range(5)
    ]
    earner_token = client.password_grant(api, EARNER_EMAIL, EARNER_PASSWORD).access_token
    collection = _collection(client, api, earner_token, "Seeded collection", awards)
    empty = _collection(client, api, earner_token, "Empty collection", [])
    lookup = client.fetch(
        displayer.route("convert_email"), host.base_url, data={"email": EARNER_EMAIL}
    ).json()
    groups = client.fetch(
        displayer.route("groups"), host.base_url, params={"user": lookup["userId"]}
    ).json()["groups"]
    group = next(g for g in groups if g["name"] == "Seeded collection")
    return World(
        host=host,
        issuer_id=issuer["entityId"],
        badgeclass_id=badge["entityId"],
        assertion_ids=awards,
        collection_id=collection,
        displayer_user_id=lookup["userId"],
        group_id=group["groupId"],
        empty_collection_id=empty,
    )


def _collection(
    client: BackpackClient, api: str, token: str, name: str, assertions: list[str]
) -> str:
    created = _result(
        client.fetch(
            badgr.route("backpack.collections.create"),
            api,
            data={"name": name, "published": True},
            token=token,
        )
    )
    client.fetch(
        badgr.route("backpack.collections.update"),
        api,
        params={"collection": created["entityId"]},
        data={"name": name, "published": True, "assertions": assertions},
        token=token,
    )
    return str(created["entityId"])


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One reference host for the whole session, seeded once."""
    directory: Path = tmp_path_factory.mktemp("host")
    settings = HostSettings(
        db_url=f"sqlite:///{directory / 'host.sqlite3'}",
        allow_private_fetch=True,
        login_backoff_max=0,
    )
    with run_host_in_thread(settings) as host, BackpackClient(retry=FAST) as client:
        yield seed(host, client)


@pytest.fixture(autouse=True)
def _no_leftover_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    """No injected fault outlives the test that asked for it."""
    yield
    if "world" in request.fixturenames:
        faults = request.getfixturevalue("world").host.faults
        faults.fail_next(0)
        faults.drop_next(0)


@dataclass
class Backpacks:
    """A store with a v2 and a v1 provider on the host, site and user accounts on each."""

    store: Store
    v2: Provider
    v1: Provider
    v2_site: BackpackAccount
    v2_user: BackpackAccount
    v1_user: BackpackAccount
    v1_site: BackpackAccount
    extra: dict[str, Any] = field(default_factory=dict)

    def account(self, provider: Provider, owner: str, email: str, password: str) -> BackpackAccount:
        """Add (or replace) an owner's account on a provider."""
        with self.store.transaction() as tx:
            existing = tx.accounts.find(owner, provider.id)
            if existing is not None:
                return tx.accounts.update(existing.id, email=email, password=password)
            return tx.accounts.create(provider.id, owner, email, password)


@pytest.fixture
def backpacks(store: Store, world: World) -> Backpacks:
    """Providers for the host's Badgr API and its Displayer, with site and user accounts."""
    with store.transaction() as tx:
        v2 = tx.providers.create(world.api_url, world.host.base_url + "/web", "2")
        v1 = tx.providers.create(world.displayer_url, world.host.base_url + "/v1web", "1")
        return Backpacks(
            store=store,
            v2=v2,
            v1=v1,
            v2_site=tx.accounts.create(v2.id, SITE_OWNER, ISSUER_EMAIL, ISSUER_PASSWORD),
            v2_user=tx.accounts.create(v2.id, USER, EARNER_EMAIL, EARNER_PASSWORD),
            v1_user=tx.accounts.create(v1.id, USER, EARNER_EMAIL, ""),
            v1_site=tx.accounts.create(v1.id, SITE_OWNER, ISSUER_EMAIL, ""),
        )


class Counting(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """Real HTTP (sync or async) that counts requests per path and the peak in flight.

    ``fail`` picks requests answered with a 500 HTML page instead: one assertion of a
    collection, which the host cannot be asked to break on its own.
    """

    def __init__(self, fail: Callable[[httpx2.Request], bool] | None = None) -> None:
        self._sync = httpx2.HTTPTransport()
        self._async = httpx2.AsyncHTTPTransport()
        self._lock = threading.Lock()
        self._fail = fail
        self.paths: list[str] = []
        self.in_flight = 0
        self.peak = 0

    def _enter(self, request: httpx2.Request) -> httpx2.Response | None:
        with self._lock:
            self.paths.append(request.url.path)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        if self._fail is not None and self._fail(request):
            return httpx2.Response(500, content=b"<html><title>Boom</title></html>")
        return None

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return self._enter(request) or self._sync.handle_request(request)
        finally:
            self._leave()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return self._enter(request) or await self._async.handle_async_request(request)
        finally:
            self._leave()

    def close(self) -> None:
        self._sync.close()

    async def aclose(self) -> None:
        await self._async.aclose()

    def count(self, suffix: str) -> int:
        """How many requests went to a path ending with ``suffix``."""
        return sum(1 for path in self.paths if path.endswith(suffix))


class ApiEither:
    """A BackpackApi or an AsyncBackpackApi; every method is awaited either way."""

    def __init__(self, kind: str, api: BackpackApi | AsyncBackpackApi) -> None:
        self.kind = kind
        self.api = api

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.api, method)(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    def error(self) -> str:
        return self.api.get_authentication_error()


MakeApi = Callable[..., ApiEither]


@pytest.fixture(params=["sync", "async"])
async def make_api(request: pytest.FixtureRequest) -> AsyncIterator[MakeApi]:
    """A factory of APIs of one kind (the test runs once per kind), closed afterwards."""
    made: list[ApiEither] = []

    def make(
        provider: Provider,
        account: BackpackAccount | None = None,
        *,
        store: Store,
        transport: httpx2.BaseTransport | httpx2.AsyncBaseTransport | None = None,
        retry: RetryPolicy = FAST,
        timeout: float = 5.0,
        **options: Any,
    ) -> ApiEither:
        api: BackpackApi | AsyncBackpackApi
        if request.param == "sync":
            assert transport is None or isinstance(transport, httpx2.BaseTransport)
            client = BackpackClient(transport=transport, retry=retry, timeout=timeout)
            api = BackpackApi(provider, account, store=store, client=client, **options)
        else:
            assert transport is None or isinstance(transport, httpx2.AsyncBaseTransport)
            aclient = AsyncBackpackClient(transport=transport, retry=retry, timeout=timeout)
            api = AsyncBackpackApi(provider, account, store=store, client=aclient, **options)
        made.append(ApiEither(request.param, api))
        return made[-1]

    yield make
    for either in made:
        client = either.api._client
        if isinstance(client, AsyncBackpackClient):
            await client.aclose()
        else:
            client.close()


def refusing_transport() -> tuple[httpx2.MockTransport, list[httpx2.Request]]:
    """A transport that records every request and answers 500: proof that none was sent."""
    sent: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(500)

    return httpx2.MockTransport(handler), sent
