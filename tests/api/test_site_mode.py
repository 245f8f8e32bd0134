"""Site mode against the reference host: log in as the issuer, push issuer, class, award."""

from __future__ import annotations

import pytest

from openbackpack import (
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    RemoteValidationError,
    UnsupportedActionError,
)
from openbackpack.models import RemoteAssertion, RemoteBadgeClass, RemoteIssuer
from openbackpack.protocols import Mode
from openbackpack.store import Store
from tests.api.conftest import (
    EARNER_EMAIL,
    Backpacks,
    MakeApi,
    World,
    assertion_json,
    badgeclass_json,
    issuer_json,
    refusing_transport,
)

pytestmark = pytest.mark.anyio


async def test_site_mode_uses_the_site_account(make_api: MakeApi, backpacks: Backpacks) -> None:
    """Without an account the API acts as the provider's site account."""
    api = make_api(backpacks.v2, store=backpacks.store)
    assert api.api.mode is Mode.SITE
    assert api.api.account == backpacks.v2_site
    login = await api.call("authenticate")
    assert (login.provider_id, login.account_id, login.mode) == (
        backpacks.v2.id,
        backpacks.v2_site.id,
        Mode.SITE,
    )
    assert login.expires_at is not None
    assert login.from_cache is False
    assert (await api.call("authenticate")).from_cache is True


async def test_push_issuer_badgeclass_and_award(make_api: MakeApi, backpacks: Backpacks) -> None:
    """put_issuer, put_badgeclass, put_badgeclass_assertion and update_assertion succeed, typed."""
    api = make_api(backpacks.v2, store=backpacks.store)
    issuer = await api.call("put_issuer", issuer_json())
    assert isinstance(issuer, RemoteIssuer)
    assert issuer.type == "Issuer"
    assert issuer.email == "issuer@example.org"
    badge = await api.call("put_badgeclass", issuer.id, badgeclass_json())
    assert isinstance(badge, RemoteBadgeClass)
    assert badge.issuer == issuer.id
    assert [a.target_name for a in badge.alignment] == ["Skill A"]  # W9: alignments arrive
    assert badge.tags == ["moodle"]
    assert badge.criteria_narrative == "Do"
    award = await api.call("put_badgeclass_assertion", badge.id, assertion_json())
    assert isinstance(award, RemoteAssertion)
    assert award.recipient is not None
    assert award.recipient.plaintext_identity == EARNER_EMAIL
    updated = await api.call(
        "update_assertion", award.id, {**assertion_json(), "narrative": "Did it"}
    )
    assert isinstance(updated, RemoteAssertion)
    assert updated.id == award.id
    assert updated.narrative == "Did it"


async def test_refused_input_is_a_validation_error(make_api: MakeApi, backpacks: Backpacks) -> None:
    """An unverified issuer email raises RemoteValidationError whose message has Badgr's reason."""
    api = make_api(backpacks.v2, store=backpacks.store)
    with pytest.raises(RemoteValidationError) as caught:
        await api.call("put_issuer", {**issuer_json(), "email": "someone@else.org"})
    assert caught.value.status_code == 400
    assert caught.value.description == "bad request"
    assert any("verified" in message for message in caught.value.validation_errors)
    assert str(caught.value).startswith("the backpack refused to create the issuer (HTTP 400): ")
    assert "Issuer email must be one of your verified addresses" in str(caught.value)


async def test_badgeclass_without_image_reports_the_field(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """Badgr's field errors come back by field name, and the message names field and reason."""
    api = make_api(backpacks.v2, store=backpacks.store)
    badge = {k: v for k, v in badgeclass_json().items() if k != "image"}
    with pytest.raises(RemoteValidationError) as caught:
        await api.call("put_badgeclass", world.issuer_id, badge)
    assert "image" in caught.value.field_errors
    assert "image: Valid image file or data URI required." in str(caught.value)
    assert "bad request" not in str(caught.value)


@pytest.mark.parametrize(
    ("method", "args"),
    [
        pytest.param("get_collections", (), id="get_collections"),
        pytest.param("get_assertion", ("E",), id="get_assertion"),
        pytest.param("import_badge_assertion", ("https://h/a",), id="import_badge_assertion"),
        pytest.param("get_badges", ("C",), id="get_badges"),
    ],
)
async def test_user_actions_are_refused_in_site_mode_before_io(
    make_api: MakeApi, backpacks: Backpacks, method: str, args: tuple[str, ...]
) -> None:
    """A user-mode action on a site API raises UnsupportedActionError without any request."""
    transport, sent = refusing_transport()
    api = make_api(backpacks.v2, store=backpacks.store, transport=transport)
    with pytest.raises(UnsupportedActionError):
        await api.call(method, *args)
    assert sent == []


async def test_wrong_site_password(make_api: MakeApi, backpacks: Backpacks) -> None:
    """A wrong password raises AuthenticationError; the instance keeps the backpack's reason."""
    backpacks.account(backpacks.v2, "@site", "issuer@example.org", "wrong")
    api = make_api(backpacks.v2, store=backpacks.store)
    with pytest.raises(AuthenticationError) as caught:
        await api.call("put_issuer", issuer_json())
    assert caught.value.error == "invalid_grant"
    assert str(caught.value) == (
        "the backpack did not accept the email and password (HTTP 400): Invalid credentials given."
    )
    with pytest.raises(AuthenticationError):
        await api.call("authenticate")
    assert api.error() == "Invalid credentials given."


async def test_authentication_error_belongs_to_the_instance(
    make_api: MakeApi, backpacks: Backpacks
) -> None:
    """A failed login of one API neither shows in nor is reset by another (W6)."""
    good = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    backpacks.account(backpacks.v2, "@site", "issuer@example.org", "wrong")
    bad = make_api(backpacks.v2, store=backpacks.store)
    with pytest.raises(AuthenticationError):
        await bad.call("authenticate")
    await good.call("authenticate")
    make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    assert good.error() == ""
    assert bad.error() == "Invalid credentials given."


async def test_site_mode_needs_a_site_account(make_api: MakeApi, store: Store) -> None:
    """A provider without a site account cannot be used in site mode: a clear error."""
    with store.transaction() as tx:
        provider = tx.providers.create("https://api.example.org/v2", "https://example.org", "2")
    with pytest.raises(ConfigurationError, match="no site account"):
        make_api(provider, store=store)


async def test_badge_connect_provider_is_refused(make_api: MakeApi, store: Store) -> None:
    """A 2.1 provider raises UnsupportedActionError instead of using the v1 rows (W14)."""
    with store.transaction() as tx:
        provider = tx.providers.create("https://bc.example.org/v2p1", "https://bc.example", "2.1")
        account = tx.accounts.create(provider.id, "alice", "a@example.org")
    with pytest.raises(UnsupportedActionError, match="Badge Connect"):
        make_api(provider, account, store=store)


async def test_account_of_another_provider_is_refused(
    make_api: MakeApi, backpacks: Backpacks
) -> None:
    """An account on another provider is a caller mistake."""
    with pytest.raises(InvalidInputError, match="belongs to provider"):
        make_api(backpacks.v2, backpacks.v1_user, store=backpacks.store)
