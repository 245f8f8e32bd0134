"""The store side: chosen collections, and disconnecting only the owner's own account (W19)."""

from __future__ import annotations

import pytest

from openbackpack import InvalidInputError, RecordNotFoundError
from openbackpack.models import Collection, DisplayerGroup
from openbackpack.store import SelectedCollection
from tests.api.conftest import USER, Backpacks, MakeApi, World

pytestmark = pytest.mark.anyio


async def test_set_and_get_v2_collections(make_api: MakeApi, backpacks: Backpacks) -> None:
    """The chosen entity ids replace the earlier choice and come back in order, once each."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    await api.call("set_backpack_collections", None, ["OLD"])
    stored = await api.call(
        "set_backpack_collections",
        backpacks.v2_user.id,
        [Collection(entityId="C1"), "C2", "C1"],
    )
    assert stored == [
        SelectedCollection(backpacks.v2_user.id, None, "C1"),
        SelectedCollection(backpacks.v2_user.id, None, "C2"),
    ]
    assert await api.call("get_collection_record") == ["C1", "C2"]
    assert await api.call("get_collection_record", backpacks.v2_user.id) == ["C1", "C2"]


async def test_set_and_get_v1_groups(make_api: MakeApi, backpacks: Backpacks) -> None:
    """v1 selections are group numbers."""
    api = make_api(backpacks.v1, backpacks.v1_user, store=backpacks.store)
    await api.call("set_backpack_collections", None, [DisplayerGroup(groupId=4), 9])
    assert await api.call("get_collection_record") == [4, 9]
    with pytest.raises(InvalidInputError):
        await api.call("set_backpack_collections", None, ["not-a-number"])


async def test_selection_is_limited_to_the_provider(
    make_api: MakeApi, backpacks: Backpacks
) -> None:
    """An account of another provider, or no account at all, is refused."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    with pytest.raises(InvalidInputError):
        await api.call("get_collection_record", backpacks.v1_user.id)
    with pytest.raises(RecordNotFoundError):
        await api.call("set_backpack_collections", 99999, ["C"])


async def test_selected_collections_feed_get_badges(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """A stored selection can be handed straight to get_badges (Moodle's flow of §6.4)."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    selection = await api.call("set_backpack_collections", None, [world.collection_id])
    result = await api.call("get_badges", selection[0], True)
    assert [b.assertion.id for b in result.badges] == world.assertion_ids


async def test_disconnect_removes_only_that_account(
    make_api: MakeApi, backpacks: Backpacks
) -> None:
    """Disconnecting deletes the account, its selection and tokens, and nothing else (W19)."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    await api.call("authenticate")
    await api.call("set_backpack_collections", None, ["C1"])
    v1 = make_api(backpacks.v1, backpacks.v1_user, store=backpacks.store)
    await v1.call("set_backpack_collections", None, [3])
    assert await api.call("disconnect_backpack", USER, backpacks.v2_user.id) is True
    with backpacks.store.transaction() as tx:
        assert tx.accounts.find(USER, backpacks.v2.id) is None
        assert tx.collections.list(backpacks.v2_user.id) == []
        assert tx.token_cache.get(backpacks.v2_user.id) is None
        assert tx.accounts.find(USER, backpacks.v1.id) == backpacks.v1_user
        assert [c.key for c in tx.collections.list(backpacks.v1_user.id)] == [3]
        assert tx.accounts.site_account(backpacks.v2.id) == backpacks.v2_site


@pytest.mark.parametrize(
    ("who", "which", "impersonating"),
    [
        pytest.param("mallory", "own", False, id="another-user"),
        pytest.param(USER, "other-provider", False, id="another-of-my-accounts"),
        pytest.param(USER, "own", True, id="logged-in-as"),
    ],
)
async def test_disconnect_refuses_anything_but_the_owners_own_account(
    make_api: MakeApi, backpacks: Backpacks, who: str, which: str, impersonating: bool
) -> None:
    """disconnect_backpack returns False and changes nothing unless it is the owner's account."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    account_id = backpacks.v2_user.id if which == "own" else backpacks.v1_user.id
    result = await api.call("disconnect_backpack", who, account_id, impersonating=impersonating)
    assert result is False
    with backpacks.store.transaction() as tx:
        assert len(tx.accounts.list(owner=USER)) == 2


async def test_site_mode_cannot_disconnect_users(make_api: MakeApi, backpacks: Backpacks) -> None:
    """A site API disconnects nobody."""
    api = make_api(backpacks.v2, store=backpacks.store)
    assert await api.call("disconnect_backpack", USER, backpacks.v2_user.id) is False


async def test_get_collection_id_from_response(make_api: MakeApi, backpacks: Backpacks) -> None:
    """entityId for v2 collections, groupId for v1 groups."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    assert await api.call("get_collection_id_from_response", Collection(entityId="E")) == "E"
    assert await api.call("get_collection_id_from_response", {"groupId": 5}) == 5


async def test_private_methods_keep_their_roles(make_api: MakeApi, backpacks: Backpacks) -> None:
    """The private helpers report the rows, the token owner and the cache key."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    assert {m.action.value for m in api.api._define_mappings()} == {
        "collections",
        "user",
        "assertion",
        "importbadge",
        "badges",
    }
    assert api.api._get_auth_user_id() == backpacks.v2_user.id
    assert api.api._get_token_key() == (backpacks.v2.id, backpacks.v2_user.id)
    assert (api.api._check_status("missing") or "").startswith("User with this email")
