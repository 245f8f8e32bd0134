"""``AsyncOb3Api`` against the reference host over loopback: the same list, awaited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import anyio
import httpx2
import pytest

from openbackpack import AsyncOb3Api, ReauthorizationRequiredError, ScopeNotGrantedError
from openbackpack.client import AsyncBackpackClient
from openbackpack.host import RunningHost, run_host_in_thread
from openbackpack.protocols import ob3api as ob3
from openbackpack.store import BackpackAccount, Store
from openbackpack.store._types import utcnow
from tests.services._ob3 import Ob3Site, connect_learner, ob3_host_settings, ob3_site

pytestmark = [pytest.mark.usefixtures("loopback_allowed"), pytest.mark.anyio]


@pytest.fixture(scope="module")
def ob3_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """The reference host, serving the OB 3.0 API."""
    settings = ob3_host_settings(tmp_path_factory.mktemp("ob3async"), "host")
    with run_host_in_thread(settings) as running:
        yield running


@pytest.fixture
def site(store: Store, ob3_host: RunningHost) -> Iterator[Ob3Site]:
    """The store with the reference host as a 3.0 backpack."""
    with ob3_site(store, ob3_host) as running:
        yield running


class _CountingTransport(httpx2.AsyncHTTPTransport):
    """A real async transport that counts the requests to token endpoints."""

    def __init__(self) -> None:
        super().__init__()
        self.token_requests = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/token"):
            self.token_requests += 1
        return await super().handle_async_request(request)


def _api(site: Ob3Site, account: BackpackAccount, **options: object) -> AsyncOb3Api:
    with site.store.transaction() as tx:
        provider = tx.providers.get(site.provider_id)
    return AsyncOb3Api(provider, account, store=site.store, **options)  # type: ignore[arg-type]


def _expire(store: Store, account: BackpackAccount) -> str:
    with store.transaction() as tx:
        token = tx.oauth_tokens.get(account.id)
        assert token is not None
        tx.oauth_tokens.save(
            account.id, token.access_token, token.refresh_token,
            utcnow() - timedelta(seconds=1), token.scope,
        )  # fmt: skip
    return token.access_token.reveal()


async def test_the_certification_list_runs_awaited(site: Ob3Site) -> None:
    """Upsert (201 then 200), page with X-Total-Count, profile, refresh and revoke, awaited."""
    account = connect_learner(site, "71")
    sent = [site.credential(site.award(account.email, new_badge=True)) for _ in range(3)]
    async with _api(site, account) as api:
        assert [(await api.upsert_credential(c)).created for c in sent] == [True, True, True]
        assert (await api.upsert_credential(sent[1])).created is False
        pages = [page async for page in api.iter_credential_pages(limit=2)]
        assert [len(page) for page in pages] == [2, 1]
        assert {page.total for page in pages} == {3}
        stored = {c["id"]: c for page in pages for c in page.credentials}
        assert stored == {c["id"]: c for c in sent}
        profile = await api.get_profile()
        assert profile.email == account.email
        changed = await api.put_profile({**profile.to_json(), "name": "Grace Hopper"})
        assert changed.name == "Grace Hopper"
        old = _expire(site.store, account)
        assert await api.access_token() != old
        assert await api.revoke() is True
        with pytest.raises(ReauthorizationRequiredError):
            await api.get_credentials()


async def test_concurrent_callers_refresh_an_expired_token_once(site: Ob3Site) -> None:
    """Ten calls at once with an expired token make one refresh and all succeed."""
    account = connect_learner(site, "72")
    _expire(site.store, account)
    counts: list[int] = []
    transport = _CountingTransport()
    async with (
        AsyncBackpackClient(transport=transport) as client,
        _api(site, account, client=client) as api,
    ):

        async def read() -> None:
            counts.append(len(await api.get_credentials()))

        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(read)
    assert counts == [0] * 10
    assert transport.token_requests == 1
    with site.store.transaction() as tx:
        token = tx.oauth_tokens.get(account.id)
    assert token is not None
    assert token.expires_at is not None
    assert token.expires_at > utcnow()


async def test_a_scope_not_granted_is_a_typed_error_awaited(site: Ob3Site) -> None:
    """A read-only connection's upsert raises ScopeNotGrantedError."""
    account = connect_learner(site, "73", scopes=[ob3.Scope.CREDENTIAL_READONLY.value])
    credential = site.credential(site.award(account.email))
    async with _api(site, account) as api:
        with pytest.raises(ScopeNotGrantedError):
            await api.upsert_credential(credential)
