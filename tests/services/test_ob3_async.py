"""``AsyncOb3Api`` against the reference host over loopback: the same list, awaited."""

from __future__ import annotations

import anyio
import httpx2
import pytest

from openbackpack import AsyncOb3Api, ReauthorizationRequiredError, ScopeNotGrantedError
from openbackpack.client import AsyncBackpackClient
from openbackpack.protocols import ob3api as ob3
from openbackpack.store import BackpackAccount
from openbackpack.store._types import utcnow
from tests.services._ob3 import (
    Ob3Site,
    connect_learner,
    expire_token,
    provider_of,
)

pytestmark = [pytest.mark.usefixtures("loopback_allowed"), pytest.mark.anyio]


class _CountingTransport(httpx2.AsyncHTTPTransport):
    """A real async transport that counts the requests to token endpoints."""

    def __init__(self) -> None:
        super().__init__()
        self.token_requests = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/token"):
            self.token_requests += 1
        return await super().handle_async_request(request)


def _api(ob3site: Ob3Site, account: BackpackAccount, **options: object) -> AsyncOb3Api:
    return AsyncOb3Api(provider_of(ob3site), account, store=ob3site.store, **options)  # type: ignore[arg-type]


async def test_the_certification_list_runs_awaited(ob3site: Ob3Site) -> None:
    """Upsert (201 then 200), page with X-Total-Count, profile, refresh and revoke, awaited."""
    account = connect_learner(ob3site, "71")
    sent = [ob3site.credential(ob3site.award(account.email, new_badge=True)) for _ in range(3)]
    async with _api(ob3site, account) as api:
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
        old = expire_token(ob3site.store, account)
        assert await api.access_token() != old
        assert await api.revoke() is True
        with pytest.raises(ReauthorizationRequiredError):
            await api.get_credentials()


async def test_concurrent_callers_refresh_an_expired_token_once(ob3site: Ob3Site) -> None:
    """Ten calls at once with an expired token make one refresh and all succeed."""
    account = connect_learner(ob3site, "72")
    expire_token(ob3site.store, account)
    counts: list[int] = []
    transport = _CountingTransport()
    async with (
        AsyncBackpackClient(transport=transport) as client,
        _api(ob3site, account, client=client) as api,
    ):

        async def read() -> None:
            counts.append(len(await api.get_credentials()))

        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(read)
    assert counts == [0] * 10
    assert transport.token_requests == 1
    with ob3site.store.transaction() as tx:
        token = tx.oauth_tokens.get(account.id)
    assert token is not None
    assert token.expires_at is not None
    assert token.expires_at > utcnow()


async def test_a_scope_not_granted_is_a_typed_error_awaited(ob3site: Ob3Site) -> None:
    """A read-only connection's upsert raises ScopeNotGrantedError."""
    account = connect_learner(ob3site, "73", scopes=[ob3.Scope.CREDENTIAL_READONLY.value])
    credential = ob3site.credential(ob3site.award(account.email))
    async with _api(ob3site, account) as api:
        with pytest.raises(ScopeNotGrantedError):
            await api.upsert_credential(credential)
