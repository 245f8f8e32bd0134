"""Cut-off answers leave nothing live that nobody holds, where Badge Connect allows it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from openbackpack import TransportError
from openbackpack.client import BackpackClient
from openbackpack.host import RunningHost
from openbackpack.host import _schema as host_tables
from openbackpack.services import begin_oauth_connection, complete_oauth_connection
from openbackpack.store import Store
from tests.services._bc import PASSWORD, Site, badge_connect_site, consent

# The Badge Connect host announces loopback URLs.
pytestmark = pytest.mark.usefixtures("loopback_allowed")

REDIRECT = "https://lms.example.org/badges/callback"


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


def _learner(host: RunningHost) -> tuple[str, int]:
    email = f"orphan-{uuid.uuid4().hex[:10]}@example.org"
    return email, host.add_user(email, PASSWORD).id


def _live_tokens(host: RunningHost, user_id: int) -> int:
    tokens = host_tables.tokens
    with host.database.engine.connect() as conn:
        query = select(func.count()).select_from(tokens).where(tokens.c.user_id == user_id)
        return int(conn.scalar(query) or 0)


def test_a_cut_off_code_exchange_leaves_no_live_token(
    site: Site, bc_host: RunningHost, client: BackpackClient
) -> None:
    """A lost token answer makes the client present the code again; the host revokes its token."""
    email, user_id = _learner(bc_host)
    url, state = begin_oauth_connection(site.store, "7", site.provider_id, REDIRECT, client=client)
    query = consent(url, email)
    bc_host.faults.drop_next(1, path="/o/token")
    with pytest.raises(TransportError, match="revoked the tokens"):
        complete_oauth_connection(site.store, state, query["code"], client=client)
    assert _live_tokens(bc_host, user_id) == 0
    with site.store.transaction() as tx:
        assert tx.accounts.find("7", site.provider_id) is None


def test_a_cut_off_registration_stores_nothing_and_the_next_attempt_registers(
    site: Site, bc_host: RunningHost, client: BackpackClient
) -> None:
    """A lost /o/register answer stores no client; the next connection registers afresh."""
    bc_host.faults.drop_next(1, path="/o/register")
    with pytest.raises(TransportError):
        begin_oauth_connection(site.store, "8", site.provider_id, REDIRECT, client=client)
    with site.store.transaction() as tx:
        assert tx.oauth_clients.every(site.provider_id) == []
    email, user_id = _learner(bc_host)
    url, state = begin_oauth_connection(site.store, "8", site.provider_id, REDIRECT, client=client)
    account = complete_oauth_connection(
        site.store, state, consent(url, email)["code"], client=client
    )
    assert account.email == email
    assert _live_tokens(bc_host, user_id) == 1
