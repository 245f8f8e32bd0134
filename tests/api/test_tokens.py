"""Badgr tokens: cached per (provider, account), refreshed, renewed once, retried once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from openbackpack import AsyncBackpackApi, BackpackApi
from openbackpack.client import AsyncBackpackClient, BackpackClient
from openbackpack.store import BackpackAccount, CachedToken
from openbackpack.store._schema import token_cache
from tests.api.conftest import FAST, USER, Backpacks, Counting, MakeApi, World

pytestmark = pytest.mark.anyio


def _cached(backpacks: Backpacks, account: BackpackAccount) -> CachedToken:
    with backpacks.store.transaction() as tx:
        token = tx.token_cache.get(account.id)
    assert token is not None
    return token


def _rewrite(
    backpacks: Backpacks,
    account: BackpackAccount,
    *,
    access: str | None = None,
    refresh: str | None = None,
    expires_in: float = 3600,
) -> None:
    current = _cached(backpacks, account)
    with backpacks.store.transaction() as tx:
        tx.token_cache.save(
            account.id,
            access or current.access_token,
            refresh or current.refresh_token,
            datetime.now(UTC) + timedelta(seconds=expires_in),
        )


async def test_token_is_cached_sealed_per_account(make_api: MakeApi, backpacks: Backpacks) -> None:
    """A login stores the token for (provider, account); a new API of that account reuses it."""
    transport = Counting()
    first = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store, transport=transport)
    await first.call("get_collections")
    second = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store, transport=transport)
    login = await second.call("authenticate")
    assert login.from_cache is True
    assert transport.count("/o/token") == 1
    token = _cached(backpacks, backpacks.v2_user)
    with backpacks.store.engine.connect() as connection:
        rows = connection.execute(token_cache.select()).all()
    stored = repr(rows)
    assert token.access_token.reveal() not in stored  # sealed at rest
    assert token.access_token.reveal() not in repr(token)


async def test_tokens_are_never_shared_between_accounts(
    make_api: MakeApi, backpacks: Backpacks
) -> None:
    """The site and the user account on one provider each log in with their own credentials (W5)."""
    transport = Counting()
    user = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store, transport=transport)
    site = make_api(backpacks.v2, store=backpacks.store, transport=transport)
    await user.call("authenticate")
    await site.call("authenticate")
    assert transport.count("/o/token") == 2
    user_token = _cached(backpacks, backpacks.v2_user)
    site_token = _cached(backpacks, backpacks.v2_site)
    assert user_token.access_token != site_token.access_token


async def test_expiring_token_is_refreshed_without_the_password(
    make_api: MakeApi, backpacks: Backpacks
) -> None:
    """A token within 60 s of expiry is renewed with the refresh token; the password is unused."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    await api.call("authenticate")
    before = _cached(backpacks, backpacks.v2_user)
    _rewrite(backpacks, backpacks.v2_user, expires_in=30)
    wrong = backpacks.account(backpacks.v2, USER, "earner@example.org", "not-the-password")
    fresh = make_api(backpacks.v2, wrong, store=backpacks.store)
    login = await fresh.call("authenticate")
    assert login.from_cache is False
    after = _cached(backpacks, backpacks.v2_user)
    assert after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token  # Badgr rotates refresh tokens
    assert after.expires_at > datetime.now(UTC) + timedelta(hours=1)


async def test_a_refused_refresh_falls_back_to_the_password(
    make_api: MakeApi, backpacks: Backpacks
) -> None:
    """An expired token whose refresh token is refused leads to one full login."""
    transport = Counting()
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store, transport=transport)
    await api.call("authenticate")
    _rewrite(backpacks, backpacks.v2_user, refresh="bogus-refresh", expires_in=-5)
    fresh = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store, transport=transport)
    collections = await fresh.call("get_collections")
    assert collections
    assert transport.count("/o/token") == 3  # login, refused refresh, login


async def test_401_mid_session_refreshes_once_and_retries_once(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """A token the backpack no longer accepts is renewed once and the request retried once."""
    transport = Counting()
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store, transport=transport)
    await api.call("authenticate")
    _rewrite(backpacks, backpacks.v2_user, access="revoked-access-token")
    fresh = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store, transport=transport)
    collection = await fresh.call("get_badges", world.collection_id)
    assert collection.id == world.collection_id
    assert transport.count("/backpack/collections/" + world.collection_id) == 2
    assert transport.count("/o/token") == 2  # the first login, then one refresh
    assert _cached(backpacks, backpacks.v2_user).access_token.reveal() != "revoked-access-token"


async def test_clear_system_user_session_forgets_the_token(
    make_api: MakeApi, backpacks: Backpacks
) -> None:
    """After clear_system_user_session the next call logs in again."""
    transport = Counting()
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store, transport=transport)
    await api.call("authenticate")
    await api.call("clear_system_user_session")
    with backpacks.store.transaction() as tx:
        assert tx.token_cache.get(backpacks.v2_user.id) is None
    assert (await api.call("authenticate")).from_cache is False
    assert transport.count("/o/token") == 2


def test_concurrent_threads_renew_once(backpacks: Backpacks) -> None:
    """Eight threads with eight APIs of one account and an expired token refresh exactly once."""
    transport = Counting()
    with BackpackClient(transport=transport, retry=FAST) as client:
        BackpackApi(
            backpacks.v2, backpacks.v2_user, store=backpacks.store, client=client
        ).authenticate()
        _rewrite(backpacks, backpacks.v2_user, expires_in=-5)
        apis = [
            BackpackApi(backpacks.v2, backpacks.v2_user, store=backpacks.store, client=client)
            for _ in range(8)
        ]
        barrier = threading.Barrier(len(apis))
        results: list[object] = []

        def run(api: BackpackApi) -> None:
            barrier.wait()
            results.append(api.authenticate())

        threads = [threading.Thread(target=run, args=(a,)) for a in apis]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(results) == 8
    assert transport.count("/o/token") == 2  # the first login, then one refresh


async def test_concurrent_tasks_renew_once(backpacks: Backpacks) -> None:
    """Eight tasks with eight async APIs of one account and an expired token refresh once."""
    transport = Counting()
    async with AsyncBackpackClient(transport=transport, retry=FAST) as client:
        first = AsyncBackpackApi(
            backpacks.v2, backpacks.v2_user, store=backpacks.store, client=client
        )
        await first.authenticate()
        _rewrite(backpacks, backpacks.v2_user, expires_in=-5)
        apis = [
            AsyncBackpackApi(backpacks.v2, backpacks.v2_user, store=backpacks.store, client=client)
            for _ in range(8)
        ]
        async with anyio.create_task_group() as group:
            for api in apis:
                group.start_soon(api.authenticate)
    assert transport.count("/o/token") == 2
