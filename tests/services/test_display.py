"""Choosing collections, showing external badges through the cache, and disconnecting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from openbackpack import InvalidInputError
from openbackpack.client import BackpackClient, RetryPolicy
from openbackpack.services import (
    NotConnectedError,
    NotOwnerError,
    disconnect,
    external_badges,
    list_collections,
    push_award,
    select_collections,
)

from .conftest import (
    ISSUER_BASE,
    LEARNER,
    LEARNER_EMAIL,
    LEARNER_PASSWORD,
    Hosts,
    Site,
    award,
    collection,
    connect,
)


def _pushed_badges(site: Site, client: BackpackClient, count: int) -> list[str]:
    return [
        str(
            push_award(
                site.store, LEARNER, award(site), issuer_base_url=ISSUER_BASE, client=client
            ).site_assertion_id
        )
        for _ in range(count)
    ]


def test_only_published_collections_are_offered_with_counts(
    site: Site, hosts: Hosts, client: BackpackClient
) -> None:
    """v2 lists published collections with their assertion counts, and marks the chosen."""
    connect(site, site.primary_id)
    ids = _pushed_badges(site, client, 2)
    shown = collection(client, hosts.primary, LEARNER_EMAIL, LEARNER_PASSWORD, ids, name="Shown")
    hidden = collection(
        client, hosts.primary, LEARNER_EMAIL, LEARNER_PASSWORD, ids, published=False
    )
    offered = {c.id: c for c in list_collections(site.store, LEARNER, client=client)}
    assert shown in offered
    assert hidden not in offered
    assert offered[shown].badge_count == 2
    assert not offered[shown].selected
    select_collections(site.store, LEARNER, [shown], client=client)
    assert {c.id for c in list_collections(site.store, LEARNER, client=client) if c.selected} == {
        shown
    }


def test_selecting_an_unknown_collection_is_refused(site: Site, client: BackpackClient) -> None:
    """An id that is not among the offered collections raises InvalidInputError."""
    connect(site, site.primary_id)
    with pytest.raises(InvalidInputError, match="not a collection"):
        select_collections(site.store, LEARNER, ["no-such-collection"], client=client)


def test_external_badges_are_verified_cached_and_refreshed(
    site: Site, hosts: Hosts, client: BackpackClient
) -> None:
    """Badges show with names and a verified recipient; the cache answers until refreshed."""
    connect(site, site.primary_id)
    ids = _pushed_badges(site, client, 3)
    chosen = collection(client, hosts.primary, LEARNER_EMAIL, LEARNER_PASSWORD, ids)
    select_collections(site.store, LEARNER, [chosen], client=client)
    first = external_badges(site.store, LEARNER, client=client)
    assert not first.from_cache
    assert first.total_collections == 1
    assert [b.assertion_id for b in first.badges] == ids
    assert all(b.recipient_verified for b in first.badges)
    assert {b.name for b in first.badges} == {"Python basics"}
    assert first.badges[0].issuer_name == "Example University"
    assert first.failures == []
    cached = external_badges(site.store, LEARNER, client=client)
    assert cached.from_cache
    assert cached.badges == first.badges
    refreshed = external_badges(site.store, LEARNER, refresh=True, client=client)
    assert not refreshed.from_cache
    expired = external_badges(site.store, LEARNER, ttl=timedelta(0), client=client)
    assert not expired.from_cache


def test_user_with_nothing_selected_has_no_badges(site: Site, client: BackpackClient) -> None:
    """No selected collection means no badges and no request to the backpack."""
    connect(site, site.primary_id)
    result = external_badges(site.store, LEARNER, client=client)
    assert result.total_badges == 0
    assert result.total_collections == 0


def test_disconnect_removes_one_account_and_keeps_the_others(
    site: Site, hosts: Hosts, client: BackpackClient
) -> None:
    """Disconnecting removes the account, its selection, tokens and import records only."""
    connect(site, site.primary_id)
    other_account = connect(site, site.other_id)
    push_award(
        site.store, LEARNER, award(site), provider_id=site.other_id,
        issuer_base_url=ISSUER_BASE, client=client,
    )  # fmt: skip
    with pytest.raises(NotOwnerError):
        disconnect(site.store, LEARNER, site.other_id, acting_user="someone-else")
    disconnect(site.store, LEARNER, site.other_id, acting_user=LEARNER)
    with site.store.transaction() as tx:
        assert [a.provider_id for a in tx.accounts.list(owner=LEARNER)] == [site.primary_id]
        keys = [i.internal_key for i in tx.identifiers.list(site.other_id)]
        assert not [k for k in keys if k.startswith(f"import:{other_account}:")]
        assert tx.identifiers.list(site.primary_id)  # the site push stays
    with pytest.raises(NotConnectedError):
        disconnect(site.store, LEARNER, site.other_id, acting_user=LEARNER)


def test_a_failed_refresh_keeps_the_last_good_copy_and_says_it_is_stale(
    site: Site, hosts: Hosts, client: BackpackClient
) -> None:
    """A refresh hit by a transient 503 shows the cached good copy marked stale, caches nothing."""
    connect(site, site.primary_id)
    ids = _pushed_badges(site, client, 2)
    chosen = collection(client, hosts.primary, LEARNER_EMAIL, LEARNER_PASSWORD, ids)
    select_collections(site.store, LEARNER, [chosen], client=client)
    good = external_badges(site.store, LEARNER, client=client)
    assert good.failures == []
    assert not good.stale
    with site.store.transaction() as tx:
        account = tx.accounts.list(owner=LEARNER)[0]
        cached_before = tx.badge_cache.get(account.id)
    with BackpackClient(retry=RetryPolicy(attempts=1)) as no_retry:
        hosts.primary.faults.fail_next(1, 503)
        stale = external_badges(site.store, LEARNER, refresh=True, client=no_retry)
        hosts.primary.faults.fail_next(0)
    assert stale.stale
    assert cached_before is not None
    assert stale.stale_since == cached_before[1]
    assert any("503" in reason or "unavailable" in reason for reason in stale.stale_reasons)
    assert [b.assertion_id for b in stale.badges] == ids
    with site.store.transaction() as tx:
        assert tx.badge_cache.get(account.id) == cached_before
    fresh = external_badges(site.store, LEARNER, refresh=True, client=client)
    assert not fresh.stale
    assert fresh.stale_reasons == []
    assert [b.assertion_id for b in fresh.badges] == ids


def test_a_partial_first_read_is_shown_but_not_cached(
    site: Site, hosts: Hosts, client: BackpackClient
) -> None:
    """With no good copy yet, a partial read is shown with its failures and is not cached."""
    connect(site, site.primary_id)
    ids = _pushed_badges(site, client, 1)
    chosen = collection(client, hosts.primary, LEARNER_EMAIL, LEARNER_PASSWORD, ids)
    select_collections(site.store, LEARNER, [chosen], client=client)
    with BackpackClient(retry=RetryPolicy(attempts=1)) as no_retry:
        external_badges(site.store, LEARNER, client=no_retry)  # logs in: the token is cached
        with site.store.transaction() as tx:
            tx.badge_cache.delete(tx.accounts.list(owner=LEARNER)[0].id)
        hosts.primary.faults.fail_next(1, 503)
        partial = external_badges(site.store, LEARNER, client=no_retry)
        hosts.primary.faults.fail_next(0)
    assert partial.failures
    assert not partial.stale
    assert not partial.from_cache
    with site.store.transaction() as tx:
        assert tx.badge_cache.get(tx.accounts.list(owner=LEARNER)[0].id) is None
