"""The pure decisions of BackpackApi: token steps, collection ids, badge composition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openbackpack import BackpackError, InvalidInputError, InvalidResponseError, NotFoundError
from openbackpack.api._core import (
    DEFAULT_EXPIRES_IN,
    TokenStep,
    check_status,
    collection_id_from_response,
    collection_key,
    compose_badges,
    expiry_of,
    next_token_step,
)
from openbackpack.models import (
    Collection,
    DisplayerGroup,
    RemoteAssertion,
    RemoteBadgeClass,
    RemoteIssuer,
    TokenGrant,
)
from openbackpack.store import CachedToken, Secret, SelectedCollection

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)


def cached(expires_in: float, refresh: str | None = "RT", access: str = "AT") -> CachedToken:
    return CachedToken(
        account_id=1,
        provider_id=1,
        access_token=Secret(access),
        refresh_token=Secret(refresh) if refresh else None,
        expires_at=NOW + timedelta(seconds=expires_in),
        modified_at=NOW,
    )


@pytest.mark.parametrize(
    ("token", "rejected", "step"),
    [
        pytest.param(None, None, TokenStep.LOGIN, id="nothing-cached"),
        pytest.param(cached(3600), None, TokenStep.USE, id="fresh"),
        pytest.param(cached(61), None, TokenStep.USE, id="just-fresh"),
        pytest.param(cached(59), None, TokenStep.REFRESH, id="within-the-60s-margin"),
        pytest.param(cached(-10), None, TokenStep.REFRESH, id="expired"),
        pytest.param(cached(-10, refresh=None), None, TokenStep.LOGIN, id="expired-no-refresh"),
        pytest.param(cached(3600), "AT", TokenStep.REFRESH, id="refused-by-the-server"),
        pytest.param(cached(3600, refresh=None), "AT", TokenStep.LOGIN, id="refused-no-refresh"),
        pytest.param(cached(3600), "OLD", TokenStep.USE, id="already-renewed-by-another"),
    ],
)
def test_next_token_step(token: CachedToken | None, rejected: str | None, step: TokenStep) -> None:
    """Use a token fresh for 60 s more, refresh otherwise, log in only without a refresh token."""
    assert next_token_step(token, NOW, rejected) is step


def test_expiry_defaults_to_moodles_fifteen_minutes() -> None:
    """A grant without expires_in lives 900 s; otherwise it lives what it says."""
    assert expiry_of(TokenGrant(access_token="a"), NOW) == NOW + timedelta(
        seconds=DEFAULT_EXPIRES_IN
    )
    assert expiry_of(TokenGrant(access_token="a", expires_in=86400), NOW) == NOW + timedelta(days=1)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        pytest.param(SelectedCollection(1, None, "E1"), "E1", id="v2-selection"),
        pytest.param(SelectedCollection(1, 42, None), 42, id="v1-selection"),
        pytest.param(Collection(entityId="E2"), "E2", id="collection"),
        pytest.param(DisplayerGroup(groupId=7), 7, id="group"),
        pytest.param("E3", "E3", id="id"),
        pytest.param(9, 9, id="number"),
    ],
)
def test_collection_key(value: object, key: int | str) -> None:
    """Any way of naming a collection gives the provider's id."""
    assert collection_key(value) == key  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["", "  ", True])
def test_collection_key_refuses_empty_ids(value: object) -> None:
    """An empty id raises (Moodle silently returned [])."""
    with pytest.raises(InvalidInputError):
        collection_key(value)  # type: ignore[arg-type]


def test_collection_id_from_response() -> None:
    """entityId (v2) or groupId (v1), from models or raw JSON."""
    assert collection_id_from_response(Collection(entityId="E")) == "E"
    assert collection_id_from_response(DisplayerGroup(groupId=3)) == 3
    assert collection_id_from_response({"entityId": "E"}) == "E"
    assert collection_id_from_response({"groupId": 3}) == 3
    with pytest.raises(InvalidInputError):
        collection_id_from_response({"name": "x"})


def test_check_status() -> None:
    """Moodle's check_status explains 'missing' and nothing else."""
    assert check_status("missing") == (
        "User with this email address does not have an account with the current backpack provider."
    )
    assert check_status("okay") is None


def _assertion(eid: str, expanded: bool = True) -> RemoteAssertion:
    issuer = RemoteIssuer(id="https://h/public/issuers/I", name="Issuer")
    badgeclass = RemoteBadgeClass(id=f"https://h/public/badges/{eid}", issuer=issuer)
    return RemoteAssertion(id=eid, badgeclass=badgeclass if expanded else "B1")


def test_compose_badges_keeps_order_and_reports_failures() -> None:
    """Badges stay in the collection's order; failures and unexpanded ones are named."""
    collection = Collection(entityId="C", assertions=["A1", "A2", "A3", "A4"])
    missing = NotFoundError("gone", status_code=404)
    outcomes: list[RemoteAssertion | BackpackError] = [
        _assertion("A1"),
        missing,
        _assertion("A3", expanded=False),
        _assertion("A4"),
    ]
    result = compose_badges(collection, outcomes)
    assert [b.assertion.id for b in result.badges] == ["A1", "A4"]
    assert result.badges[0].issuer is not None
    assert result.badges[0].issuer.name == "Issuer"
    assert [(f.assertion_id, type(f.error)) for f in result.failures] == [
        ("A2", NotFoundError),
        ("A3", InvalidResponseError),
    ]
    assert result.failures[0].error is missing
    assert not result.complete
