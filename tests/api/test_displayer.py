"""Displayer (v1) backpacks against the reference host, in user and site mode."""

from __future__ import annotations

import pytest

from openbackpack import AuthenticationError, UnsupportedActionError
from openbackpack.models import DisplayerBadge, DisplayerGroup
from openbackpack.protocols import Mode
from tests.api.conftest import USER, Backpacks, Counting, MakeApi, World, refusing_transport

pytestmark = pytest.mark.anyio


async def test_authenticate_returns_the_displayer_user_id(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """The email lookup gives the Displayer userId; the second call needs no request."""
    transport = Counting()
    api = make_api(backpacks.v1, backpacks.v1_user, store=backpacks.store, transport=transport)
    login = await api.call("authenticate")
    assert login.remote_user_id == world.displayer_user_id
    assert login.expires_at is None
    again = await api.call("authenticate")
    assert again.from_cache is True
    assert transport.count("/displayer/convert/email") == 1


async def test_site_mode_can_only_log_in(make_api: MakeApi, backpacks: Backpacks) -> None:
    """A v1 site API looks its email up and has no other action."""
    api = make_api(backpacks.v1, store=backpacks.store)
    assert api.api.mode is Mode.SITE
    assert (await api.call("authenticate")).remote_user_id is not None
    with pytest.raises(UnsupportedActionError):
        await api.call("get_collections")


async def test_get_collections_lists_public_groups(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """The user's public groups come back with their badge counts."""
    api = make_api(backpacks.v1, backpacks.v1_user, store=backpacks.store)
    groups = await api.call("get_collections")
    assert all(isinstance(g, DisplayerGroup) for g in groups)
    seeded = next(g for g in groups if g.id == world.group_id)
    assert seeded.badges == len(world.assertion_ids)


async def test_get_badges_of_a_group(make_api: MakeApi, backpacks: Backpacks, world: World) -> None:
    """A group's badges are the stored assertion documents, expanded or not."""
    api = make_api(backpacks.v1, backpacks.v1_user, store=backpacks.store)
    for expanded in (False, True):
        badges = await api.call("get_badges", DisplayerGroup(groupId=world.group_id), expanded)
        assert len(badges) == len(world.assertion_ids)
        assert all(isinstance(b, DisplayerBadge) for b in badges)
        assert badges[0].hosted_url


async def test_unknown_email_is_an_authentication_error(
    make_api: MakeApi, backpacks: Backpacks
) -> None:
    """An email the Displayer does not know raises AuthenticationError with its explanation."""
    account = backpacks.account(backpacks.v1, USER, "nobody@example.org", "")
    api = make_api(backpacks.v1, account, store=backpacks.store)
    with pytest.raises(AuthenticationError) as caught:
        await api.call("get_collections")
    assert caught.value.status_code == 404
    assert api.error() == "Could not find a user by the email address `nobody@example.org`"


@pytest.mark.parametrize(
    ("method", "args"),
    [
        pytest.param("get_assertion", ("A",), id="get_assertion"),
        pytest.param("import_badge_assertion", ("https://h/a",), id="import"),
        pytest.param("put_issuer", ({},), id="put_issuer"),
    ],
)
async def test_v2_only_actions_are_refused_before_io(
    make_api: MakeApi, backpacks: Backpacks, method: str, args: tuple[object, ...]
) -> None:
    """A v2-only action on a v1 backpack raises UnsupportedActionError without a request."""
    transport, sent = refusing_transport()
    api = make_api(backpacks.v1, backpacks.v1_user, store=backpacks.store, transport=transport)
    with pytest.raises(UnsupportedActionError):
        await api.call(method, *args)
    assert sent == []


async def test_get_badges_of_an_empty_group(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """A group with no badges gives an empty list, expanded or not (as Moodle does)."""
    api = make_api(backpacks.v1, backpacks.v1_user, store=backpacks.store)
    groups = await api.call("get_collections")
    empty = next(g for g in groups if g.name == "Empty collection")
    for expanded in (False, True):
        assert await api.call("get_badges", empty, expanded) == []
