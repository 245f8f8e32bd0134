"""Site backpacks (providers): create, validate, order, delete."""

from __future__ import annotations

import pytest

from openbackpack import (
    ApiVersion,
    DuplicateRecordError,
    InvalidApiVersionError,
    InvalidDirectionError,
    InvalidUrlError,
    PrimaryBackpackError,
    RecordNotFoundError,
)
from openbackpack.store import SITE_OWNER, IdentifierKind, Store

from .conftest import snapshot

CA = ("https://api.ca.badgr.io/v2", "https://ca.badgr.io")
EU = ("https://api.eu.badgr.io/v2", "https://eu.badgr.io")
IMS = ("https://dc.imsglobal.org/obchost/ims/ob/v2p1", "https://dc.imsglobal.org")


def _three(store: Store) -> list[int]:
    with store.transaction() as tx:
        return [
            tx.providers.create(*CA, "2").id,
            tx.providers.create(*EU, "2.0").id,
            tx.providers.create(*IMS, "2.1").id,
        ]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("1", ApiVersion.V1),
        ("1.0", ApiVersion.V1),
        ("2", ApiVersion.V2),
        ("2.0", ApiVersion.V2),
        ("2.1", ApiVersion.V2P1),
        (2, ApiVersion.V2),
        (2.1, ApiVersion.V2P1),
        ("v2p1", ApiVersion.V2P1),
        ("3", ApiVersion.V3P0),
        ("3.0", ApiVersion.V3P0),
        ("v3p0", ApiVersion.V3P0),
        (3, ApiVersion.V3P0),
    ],
)
def test_api_versions_are_read_loosely(store: Store, given: object, expected: ApiVersion) -> None:
    """Every spelling Moodle stores for a version is accepted and normalised."""
    with store.transaction() as tx:
        assert tx.providers.create(*CA, given).api_version is expected


@pytest.mark.parametrize("given", ["4", "2.2", "", "v2", "v3", None, True, "1e400x"])
def test_unknown_api_version_is_refused_and_nothing_stored(store: Store, given: object) -> None:
    """An unknown version raises InvalidApiVersionError naming the value; no row is written."""
    before = snapshot(store)
    with (
        pytest.raises(InvalidApiVersionError, match="unknown backpack API version"),
        store.transaction() as tx,
    ):
        tx.providers.create(*CA, given)
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "url", ["ftp://badgr.io", "badgr.io", "javascript:alert(1)", "https://", "http://x/?q=1"]
)
def test_url_that_is_not_http_is_refused(store: Store, url: str) -> None:
    """API and web URLs must be absolute http(s) URLs; the error names the field."""
    before = snapshot(store)
    with pytest.raises(InvalidUrlError, match="api_url"), store.transaction() as tx:
        tx.providers.create(url, "https://badgr.io", "2")
    with pytest.raises(InvalidUrlError, match="web_url"), store.transaction() as tx:
        tx.providers.create("https://api.badgr.io/v2", url, "2")
    assert snapshot(store) == before


def test_duplicate_urls_are_refused_without_change(store: Store) -> None:
    """A second provider with a taken API or web URL raises DuplicateRecordError."""
    _three(store)
    before = snapshot(store)
    with pytest.raises(DuplicateRecordError, match="api_url"), store.transaction() as tx:
        tx.providers.create(CA[0] + "/", "https://other.example", "2")
    with pytest.raises(DuplicateRecordError, match="web_url"), store.transaction() as tx:
        tx.providers.create("https://other.example/v2", EU[1], "2")
    assert snapshot(store) == before


def test_failed_call_rolls_back_the_whole_transaction(store: Store) -> None:
    """Work done earlier in a transaction is undone when a later call in it fails."""

    def create_twice() -> None:
        with store.transaction() as tx:
            tx.providers.create(*CA, "2")
            tx.providers.create(*CA, "2")

    with pytest.raises(DuplicateRecordError):
        create_twice()
    with store.transaction() as tx:
        assert tx.providers.list() == []


def test_primary_is_the_lowest_sort_order(store: Store) -> None:
    """The first provider created is primary; moving another up makes it primary."""
    ca, eu, ims = _three(store)
    with store.transaction() as tx:
        primary = tx.providers.primary()
        assert primary is not None
        assert primary.id == ca
        tx.providers.move(eu, "up")
        primary = tx.providers.primary()
        assert primary is not None
        assert primary.id == eu
        assert [p.id for p in tx.providers.list()] == [eu, ca, ims]


def test_move_swaps_with_neighbour_and_stops_at_the_ends(store: Store) -> None:
    """Moving past either end is a no-op; up and down swap with the neighbour."""
    ca, eu, ims = _three(store)
    with store.transaction() as tx:
        tx.providers.move(ca, -1)
        tx.providers.move(ims, 1)
        assert [p.id for p in tx.providers.list()] == [ca, eu, ims]
        tx.providers.move(ca, "down")
        assert [p.id for p in tx.providers.list()] == [eu, ca, ims]
        tx.providers.move(ims, "up")
        tx.providers.move(ims, "up")
        assert [p.id for p in tx.providers.list()] == [ims, eu, ca]


@pytest.mark.parametrize("direction", [0, 2, "sideways", True, None])
def test_invalid_direction_raises(store: Store, direction: object) -> None:
    """A direction that is neither up nor down raises InvalidDirectionError."""
    ca, *_ = _three(store)
    before = snapshot(store)
    with pytest.raises(InvalidDirectionError, match="unknown direction"), store.transaction() as tx:
        tx.providers.move(ca, direction)  # type: ignore[arg-type]
    assert snapshot(store) == before


def test_primary_cannot_be_deleted(store: Store) -> None:
    """Deleting the primary raises PrimaryBackpackError and keeps every row."""
    ca, *_ = _three(store)
    before = snapshot(store)
    with pytest.raises(PrimaryBackpackError, match="primary"), store.transaction() as tx:
        tx.providers.delete(ca)
    assert snapshot(store) == before


def test_delete_cascades_to_everything_of_that_provider_only(store: Store) -> None:
    """Deleting a provider removes its accounts, selections, ids, tokens and clients only."""
    ca, eu, _ = _three(store)
    with store.transaction() as tx:
        for provider in (ca, eu):
            site = tx.accounts.create(provider, SITE_OWNER, "issuer@example.org", "pw")
            user = tx.accounts.create(provider, "42", "learner@example.org", "pw")
            tx.collections.replace(user.id, ["abc", "def"])
            tx.identifiers.create(provider, IdentifierKind.ISSUER, "issuer-key", "remote-1")
            tx.token_cache.save(site.id, "access", "refresh", site.created_at)
            tx.oauth_tokens.save(user.id, "access", None, None, "assertion")
            tx.oauth_clients.save(provider, "client", "secret")
            tx.verifications.create("43", provider, "other@example.org", "pw")
    with store.transaction() as tx:
        tx.providers.delete(eu)
    counts = {name: len(rows) for name, rows in snapshot(store).items()}
    assert counts["backpack_accounts"] == 2
    assert counts["selected_collections"] == 2
    assert counts["external_identifiers"] == 1
    assert counts["token_cache"] == 1
    assert counts["oauth_tokens"] == 1
    assert counts["oauth_clients"] == 1
    assert counts["pending_verifications"] == 1
    with store.transaction() as tx:
        assert {a.provider_id for a in tx.accounts.list()} == {ca}
        with pytest.raises(RecordNotFoundError):
            tx.providers.get(eu)


def test_update_keeps_unchanged_fields_and_checks_uniqueness(store: Store) -> None:
    """An update changes only what is given and refuses another provider's URL."""
    ca, _, _ = _three(store)
    with store.transaction() as tx:
        updated = tx.providers.update(ca, web_url="https://canada.badgr.io/")
        assert updated.web_url == "https://canada.badgr.io"
        assert updated.api_url == CA[0]
        assert updated.api_version is ApiVersion.V2
    before = snapshot(store)
    with pytest.raises(DuplicateRecordError), store.transaction() as tx:
        tx.providers.update(ca, api_url=EU[0])
    assert snapshot(store) == before
