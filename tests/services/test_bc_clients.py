"""Every registered Badge Connect client is kept; each account refreshes with its own."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from openbackpack import BadgeConnectApi
from openbackpack.client import BackpackClient
from openbackpack.host import RunningHost
from openbackpack.services import begin_oauth_connection, complete_oauth_connection, disconnect
from openbackpack.store import BackpackAccount, Store
from openbackpack.store._types import utcnow
from tests.services._bc import Site, badge_connect_site, consent, new_learner

# The Badge Connect host announces loopback URLs.
pytestmark = pytest.mark.usefixtures("loopback_allowed")

FIRST = "https://lms.example.org/badges/one"
SECOND = "https://lms.example.org/badges/two"


@pytest.fixture
def site(store: Store, bc_host: RunningHost) -> Iterator[Site]:
    """The store with the specification host as a 2.1 backpack."""
    with badge_connect_site(store, bc_host) as running:
        yield running


@pytest.fixture
def client() -> Iterator[BackpackClient]:
    """A shared HTTP client."""
    with BackpackClient() as shared:
        yield shared


def _connect(
    site: Site, owner: str, redirect: str, host: RunningHost, client: BackpackClient
) -> BackpackAccount:
    url, state = begin_oauth_connection(
        site.store, owner, site.provider_id, redirect, client=client
    )
    query = consent(url, new_learner(host))
    return complete_oauth_connection(site.store, state, query["code"], client=client)


def _expire(store: Store, account: BackpackAccount) -> None:
    with store.transaction() as tx:
        token = tx.oauth_tokens.get(account.id)
        assert token is not None
        tx.oauth_tokens.save(account.id, token.access_token, token.refresh_token, utcnow(), "")


def _refreshed_profile_email(site: Site, account: BackpackAccount, client: BackpackClient) -> str:
    with site.store.transaction() as tx:
        provider = tx.providers.get(site.provider_id)
    with BadgeConnectApi(provider, account, store=site.store, client=client) as api:
        return str(api.get_profile().email)


def test_accounts_of_an_earlier_client_still_refresh(
    site: Site, bc_host: RunningHost, client: BackpackClient
) -> None:
    """A connected with redirect URI 1 and B with URI 2 (a new client) both refresh after."""
    first = _connect(site, "1", FIRST, bc_host, client)
    second = _connect(site, "2", SECOND, bc_host, client)
    with site.store.transaction() as tx:
        clients = tx.oauth_clients.every(site.provider_id)
        tokens = [tx.oauth_tokens.get(a.id) for a in (first, second)]
    assert len({c.client_id for c in clients}) == 2
    assert [t.oauth_client_id for t in tokens if t is not None] == [c.id for c in clients]
    for account in (first, second):
        _expire(site.store, account)
        assert _refreshed_profile_email(site, account, client) == account.email
    with site.store.transaction() as tx:
        after = [tx.oauth_tokens.get(a.id) for a in (first, second)]
    # The refreshed tokens stay with the client that issued them.
    assert [t.oauth_client_id for t in after if t is not None] == [c.id for c in clients]


def test_an_earlier_clients_account_is_revoked_with_its_client(
    site: Site, bc_host: RunningHost, client: BackpackClient
) -> None:
    """Disconnecting an account of an earlier client revokes its tokens at the host."""
    first = _connect(site, "1", FIRST, bc_host, client)
    _connect(site, "2", SECOND, bc_host, client)
    with site.store.transaction() as tx:
        token = tx.oauth_tokens.get(first.id)
        assert token is not None
    profile = bc_host.badgeconnect_api_url + "/profile"
    bearer = {"Authorization": f"Bearer {token.access_token.reveal()}"}
    assert httpx2.get(profile, headers=bearer).status_code == 200
    assert disconnect(site.store, "1", site.provider_id, acting_user="1", client=client) is True
    assert httpx2.get(profile, headers=bearer).status_code == 401
