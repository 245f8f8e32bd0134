"""User mode on Badgr (v2) against the reference host: collections, badges, import."""

from __future__ import annotations

import httpx2
import pytest

from openbackpack import (
    CollectionBadges,
    DuplicateBadgeError,
    InvalidInputError,
    NotFoundError,
    ServerError,
    UnsupportedActionError,
)
from openbackpack.models import Collection, RemoteAssertion, RemoteBadgeClass, RemoteIssuer
from openbackpack.protocols import Mode, badgr
from openbackpack.store import SelectedCollection
from tests.api.conftest import (
    EARNER_EMAIL,
    Backpacks,
    Counting,
    MakeApi,
    World,
    assertion_json,
    badgeclass_json,
    issuer_json,
    refusing_transport,
)

pytestmark = pytest.mark.anyio


async def test_get_collections(make_api: MakeApi, backpacks: Backpacks, world: World) -> None:
    """The user's collections come back typed, with their assertion ids."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    assert api.api.mode is Mode.USER
    collections = await api.call("get_collections")
    by_id = {c.id: c for c in collections}
    assert all(isinstance(c, Collection) for c in collections)
    assert by_id[world.collection_id].assertions == world.assertion_ids
    assert by_id[world.empty_collection_id].assertions == []


async def test_get_badges_returns_the_collection(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """Without expansion, get_badges returns the collection itself (as Moodle does)."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    collection = await api.call("get_badges", world.collection_id)
    assert isinstance(collection, Collection)
    assert collection.name == "Seeded collection"


async def test_get_badges_expanded_keeps_order(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """Expanded, every assertion arrives with badge class and issuer, in the collection's order."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    result = await api.call("get_badges", SelectedCollection(0, None, world.collection_id), True)
    assert isinstance(result, CollectionBadges)
    assert result.complete
    assert [b.assertion.id for b in result.badges] == world.assertion_ids
    first = result.badges[0]
    assert isinstance(first.badgeclass, RemoteBadgeClass)
    assert first.badgeclass.name == "Seeded"
    assert isinstance(first.issuer, RemoteIssuer)
    assert first.issuer.email == "issuer@example.org"
    assert first.assertion.recipient is not None  # W20: kept for verification


async def test_get_badges_fetches_concurrently_within_the_limit(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """The assertions are fetched at most 'concurrency' at a time, more than one at once (W8)."""
    transport = Counting()
    api = make_api(
        backpacks.v2, backpacks.v2_user, store=backpacks.store, transport=transport, concurrency=3
    )
    await api.call("authenticate")
    result = await api.call("get_badges", world.collection_id, True)
    assert len(result.badges) == len(world.assertion_ids)
    assert transport.count("/backpack/collections/" + world.collection_id) == 1
    assert 1 < transport.peak <= 3


async def test_a_failing_assertion_does_not_lose_the_others(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """One assertion that fails is reported in failures; the others arrive, in order."""
    broken = world.assertion_ids[2]
    transport = Counting(fail=lambda r: r.url.path.endswith("/backpack/assertions/" + broken))
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store, transport=transport)
    result = await api.call("get_badges", world.collection_id, True)
    assert [b.assertion.id for b in result.badges] == [
        a for a in world.assertion_ids if a != broken
    ]
    assert [f.assertion_id for f in result.failures] == [broken]
    assert isinstance(result.failures[0].error, ServerError)
    assert not result.complete


async def test_get_badges_of_an_empty_collection(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """An empty collection expands to no badges and no failures."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    result = await api.call("get_badges", world.empty_collection_id, True)
    assert (result.badges, result.failures) == ([], [])


async def test_get_badges_of_an_unknown_collection(make_api: MakeApi, backpacks: Backpacks) -> None:
    """An unknown collection raises NotFoundError; an empty id raises before any request."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    with pytest.raises(NotFoundError):
        await api.call("get_badges", "no-such-collection")
    with pytest.raises(InvalidInputError):
        await api.call("get_badges", "")


async def test_get_assertion(make_api: MakeApi, backpacks: Backpacks, world: World) -> None:
    """One assertion comes back expanded, with its recipient."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    assertion = await api.call("get_assertion", world.assertion_ids[0])
    assert isinstance(assertion, RemoteAssertion)
    assert assertion.recipient is not None
    assert assertion.recipient.plaintext_identity == EARNER_EMAIL
    assert isinstance(assertion.badgeclass, RemoteBadgeClass)
    with pytest.raises(NotFoundError):
        await api.call("get_assertion", "AAAAAAAAAAAAAAAAAAAAAA")


async def test_import_and_duplicate(make_api: MakeApi, backpacks: Backpacks, world: World) -> None:
    """Importing a public assertion URL works; importing it again is a DuplicateBadgeError."""
    site = make_api(backpacks.v2, store=backpacks.store)
    issuer = await site.call("put_issuer", issuer_json("Importer"))
    badge = await site.call("put_badgeclass", issuer.id, badgeclass_json("Imported"))
    award = await site.call("put_badgeclass_assertion", badge.id, assertion_json())
    url = badgr.public_url(world.api_url, "assertions", award.id)
    user = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    # The award waits, unaccepted, in the earner's backpack: importing it accepts it.
    imported = await user.call("import_badge_assertion", url)
    assert isinstance(imported, RemoteAssertion)
    assert imported.id == award.id
    assert imported.model_extra is not None
    assert imported.acceptance == "Accepted"
    with pytest.raises(DuplicateBadgeError) as caught:
        await user.call("import_badge_assertion", url)
    assert caught.value.status_code == 400


@pytest.mark.parametrize(
    ("method", "args"),
    [
        pytest.param("put_issuer", ({},), id="put_issuer"),
        pytest.param("put_badgeclass", ("I", {}), id="put_badgeclass"),
        pytest.param("put_badgeclass_assertion", ("B", {}), id="put_badgeclass_assertion"),
        pytest.param("update_assertion", ("A", {}), id="update_assertion"),
    ],
)
async def test_site_actions_are_refused_in_user_mode_before_io(
    make_api: MakeApi, backpacks: Backpacks, method: str, args: tuple[object, ...]
) -> None:
    """An issuing action on a user API raises UnsupportedActionError without any request."""
    transport, sent = refusing_transport()
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store, transport=transport)
    with pytest.raises(UnsupportedActionError):
        await api.call(method, *args)
    assert sent == []


async def test_get_badges_of_an_empty_collection_unexpanded(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """Without expansion, an empty collection comes back as itself, with no assertions."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    found = await api.call("get_badges", world.empty_collection_id)
    assert isinstance(found, Collection)
    assert found.assertions == []


class _EmptyResult(Counting):
    """Real HTTP, except that reading a collection answers Badgr's envelope with no result."""

    def _enter(self, request: httpx2.Request) -> httpx2.Response | None:
        super()._enter(request)
        if "/backpack/collections/" in request.url.path and request.method == "GET":
            body = {"status": {"success": True, "description": "ok"}, "result": []}
            return httpx2.Response(200, json=body)
        return None


@pytest.mark.parametrize("expanded", [False, True])
async def test_get_badges_of_an_empty_result_list_is_an_empty_list(
    make_api: MakeApi, backpacks: Backpacks, world: World, expanded: bool
) -> None:
    """An empty result list for a collection gives [], as in Moodle, sync and async."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store, transport=_EmptyResult())
    assert await api.call("get_badges", world.empty_collection_id, expanded) == []
