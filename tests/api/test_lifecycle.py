"""Building and closing APIs: who owns the HTTP client, and accounts that cannot log in."""

from __future__ import annotations

import pytest

from openbackpack import AsyncBackpackApi, BackpackApi, ConfigurationError
from openbackpack.client import AsyncBackpackClient, BackpackClient
from tests.api.conftest import Backpacks, MakeApi


def test_sync_api_closes_only_its_own_client(backpacks: Backpacks) -> None:
    """An API closes the client it created, never one it was given."""
    with BackpackApi(backpacks.v2, store=backpacks.store) as own:
        pass
    assert own._client._http.is_closed
    shared = BackpackClient()
    with BackpackApi(backpacks.v2, store=backpacks.store, client=shared):
        pass
    assert not shared._http.is_closed
    shared.close()


@pytest.mark.anyio
async def test_async_api_closes_only_its_own_client(backpacks: Backpacks) -> None:
    """The async API closes the client it created, never one it was given."""
    async with AsyncBackpackApi(backpacks.v2, store=backpacks.store) as own:
        pass
    assert own._client._http.is_closed
    async with AsyncBackpackClient() as shared:
        async with AsyncBackpackApi(backpacks.v2, store=backpacks.store, client=shared):
            pass
        assert not shared._http.is_closed


@pytest.mark.anyio
async def test_a_v2_account_without_password_cannot_log_in(
    make_api: MakeApi, backpacks: Backpacks
) -> None:
    """A v2 account with no password and no token raises ConfigurationError, before any request."""
    with backpacks.store.transaction() as tx:
        account = tx.accounts.create(backpacks.v2.id, "bob", "bob@example.org")
    api = make_api(backpacks.v2, account, store=backpacks.store)
    with pytest.raises(ConfigurationError, match="no password"):
        await api.call("authenticate")
    assert "no password" in api.error()
