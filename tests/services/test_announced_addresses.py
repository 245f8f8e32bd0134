"""A Badge Connect host announcing private URLs: the client refuses them unless allowed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from openbackpack import BlockedAddressError
from openbackpack.client import AddressPolicy, BackpackClient
from openbackpack.host import RunningHost
from openbackpack.services import register_oauth_client
from openbackpack.store import Store
from tests.services._bc import Counting, Site, badge_connect_site

REDIRECT = "http://127.0.0.1:8/callback"


@pytest.fixture
def site(store: Store, bc_host: RunningHost) -> Iterator[Site]:
    """The store with the loopback specification host as a 2.1 backpack."""
    with badge_connect_site(store, bc_host) as running:
        yield running


def test_registration_url_announced_on_loopback_is_refused(site: Site) -> None:
    """The manifest (the admin's URL) is read; its loopback registration URL is not called."""
    transport = Counting()
    with BackpackClient(transport=transport) as client, pytest.raises(BlockedAddressError) as e:
        register_oauth_client(site.store, site.provider_id, [REDIRECT], client=client)
    assert e.value.url.endswith("/o/register")
    assert e.value.action == "register"
    assert [(m, p) for m, p, _ in transport.requests] == [("GET", "/.well-known/badgeconnect.json")]
    with site.store.transaction() as tx:
        assert tx.oauth_clients.get(site.provider_id) is None


def test_registration_url_on_allowed_loopback_is_called(site: Site) -> None:
    """With loopback allowed explicitly, the same registration succeeds."""
    loopback = AddressPolicy.allowing_loopback()
    with BackpackClient(announced_addresses=loopback) as client:
        registered = register_oauth_client(site.store, site.provider_id, [REDIRECT], client=client)
    assert registered.client_id
