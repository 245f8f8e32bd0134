"""Contract: every row of every protocol table, sent by the client, answered by the host."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from openbackpack import BackpackApi
from openbackpack.client import Answer, BackpackClient
from openbackpack.models import ApiVersion, Collection, DisplayerUser, TokenGrant
from openbackpack.protocols import MAPPINGS, Action, Endpoint, Mapping, Mode, badgr, displayer
from openbackpack.store import SITE_OWNER, Store
from tests.api.conftest import (
    EARNER_EMAIL,
    EARNER_PASSWORD,
    FAST,
    ISSUER_EMAIL,
    ISSUER_PASSWORD,
    World,
    assertion_json,
    badgeclass_json,
    issuer_json,
    png_data_uri,
)


@dataclass
class Walk:
    """Calls routes through the client and remembers each route's answer."""

    client: BackpackClient
    world: World
    answers: dict[str, Answer] = field(default_factory=dict)

    def call(self, table: dict[str, Endpoint], name: str, **kwargs: Any) -> Any:
        endpoint = table[name]
        base = self.world.api_url if table is badgr.ROUTES else self.world.displayer_url
        answer = self.client.fetch(endpoint, base, **kwargs)
        self.answers[f"{'badgr' if table is badgr.ROUTES else 'displayer'}:{name}"] = answer
        return answer.json()

    def badgr(self, name: str, **kwargs: Any) -> Any:
        return self.call(badgr.ROUTES, name, **kwargs)

    def eid(self, name: str, **kwargs: Any) -> str:
        return str(self.badgr(name, **kwargs)["result"][0]["entityId"])


def _walk_badgr(walk: Walk) -> None:
    # Authentication: the password grant, then a refresh.
    issuer_login = walk.badgr("token", data={"username": ISSUER_EMAIL, "password": ISSUER_PASSWORD})
    walk.client.refresh_grant(walk.world.api_url, issuer_login["refresh_token"])
    token = walk.client.password_grant(
        walk.world.api_url, ISSUER_EMAIL, ISSUER_PASSWORD
    ).access_token
    me = {"token": token}
    # Issuers.
    walk.badgr("issuers.list", **me)
    spare = walk.eid("issuers.create", data=issuer_json("Spare"), **me)
    walk.badgr("issuers.get", params={"issuer": spare}, **me)
    walk.badgr("issuers.update", params={"issuer": spare}, data=issuer_json("Spare 2"), **me)
    walk.badgr("issuers.delete", params={"issuer": spare}, **me)
    issuer = walk.eid(
        "issuers.create", data={**issuer_json("Walker"), "image": png_data_uri()}, **me
    )
    # Badge classes.
    badge = {"name": "Walked", "description": "d", "image": png_data_uri()}
    walk.badgr("badgeclasses.list", **me)
    walk.badgr("issuer.badgeclasses.list", params={"issuer": issuer}, **me)
    spare_class = walk.eid("badgeclasses.create", data={**badge, "issuer": issuer}, **me)
    walk.badgr("badgeclasses.update", params={"badgeclass": spare_class}, data=badge, **me)
    walk.badgr("badgeclasses.delete", params={"badgeclass": spare_class}, **me)
    badgeclass = walk.eid("issuer.badgeclasses.create", params={"issuer": issuer}, data=badge, **me)
    walk.badgr("badgeclasses.get", params={"badgeclass": badgeclass}, **me)
    # Awards.
    recipient = {"recipient": {"identity": EARNER_EMAIL, "type": "email"}}
    award = walk.eid(
        "badgeclass.assertions.create", params={"badgeclass": badgeclass}, data=recipient, **me
    )
    walk.badgr("badgeclass.assertions.list", params={"badgeclass": badgeclass}, **me)
    batch = walk.badgr(
        "badgeclass.issue",
        params={"badgeclass": badgeclass},
        data={"assertions": [recipient, recipient], "create_notification": False},
        **me,
    )["result"]
    other = walk.eid(
        "issuer.assertions.create",
        params={"issuer": issuer},
        data={**recipient, "badgeclass": badgeclass},
        **me,
    )
    walk.badgr("issuer.assertions.list", params={"issuer": issuer}, **me)
    walk.badgr("assertions.get", params={"assertion": award}, **me)
    walk.badgr("assertions.update", params={"assertion": award}, data={"narrative": "n"}, **me)
    walk.badgr(
        "assertions.revoke",
        params={"assertion": other},
        data={"revocation_reason": "Issued in error"},
        **me,
    )
    walk.badgr(
        "assertions.revoke_many",
        data=[{"entityId": batch[0]["entityId"], "revocationReason": "Duplicate"}],
        **me,
    )
    # Public Open Badges JSON.
    walk.badgr("public.assertions", params={"entity": award})
    walk.badgr("public.badges", params={"entity": badgeclass})
    walk.badgr("public.issuers", params={"entity": issuer})
    walk.badgr("public.issuers.badges", params={"entity": issuer})
    walk.badgr("public.assertions.image", params={"entity": award})
    walk.badgr("public.badges.image", params={"entity": badgeclass})
    walk.badgr("public.issuers.image", params={"entity": issuer})
    # The earner's backpack.
    earner = {
        "token": walk.client.password_grant(
            walk.world.api_url, EARNER_EMAIL, EARNER_PASSWORD
        ).access_token
    }
    walk.badgr("backpack.assertions.list", **earner)
    walk.badgr("backpack.assertions.get", params={"assertion": award}, **earner)
    walk.badgr("backpack.assertions.image", params={"assertion": award}, **earner)
    walk.badgr(
        "backpack.assertions.update",
        params={"assertion": award},
        data={"acceptance": "Accepted"},
        **earner,
    )
    walk.badgr("backpack.assertions.delete", params={"assertion": award}, **earner)
    public = badgr.public_url(walk.world.api_url, "assertions", award)
    walk.badgr("backpack.import", data={"url": public}, **earner)
    collection = walk.eid("backpack.collections.create", data={"name": "Walk"}, **earner)
    walk.badgr("backpack.collections.list", **earner)
    walk.badgr("backpack.collections.get", params={"collection": collection}, **earner)
    shared = walk.badgr(
        "backpack.collections.update",
        params={"collection": collection},
        data={"name": "Walk", "published": True, "assertions": [award]},
        **earner,
    )["result"][0]
    walk.badgr("public.collections", params={"share": shared["shareHash"]})
    walk.badgr("backpack.collections.delete", params={"collection": collection}, **earner)


def _walk_displayer(walk: Walk) -> None:
    user = walk.call(displayer.ROUTES, "convert_email", data={"email": EARNER_EMAIL})["userId"]
    walk.call(displayer.ROUTES, "groups", params={"user": user})
    walk.call(displayer.ROUTES, "group", params={"user": user, "group": walk.world.group_id})


@pytest.fixture(scope="module")
def walked(world: World) -> Iterator[dict[str, Answer]]:
    """Walk every route once, in an order that gives each one something to act on."""
    with BackpackClient(retry=FAST) as client:
        walk = Walk(client, world)
        _walk_badgr(walk)
        _walk_displayer(walk)
        yield walk.answers


ROUTE_IDS = [f"badgr:{name}" for name in badgr.ROUTES] + [
    f"displayer:{name}" for name in displayer.ROUTES
]


def _endpoint(route_id: str) -> Endpoint:
    table, name = route_id.split(":")
    return (badgr.ROUTES if table == "badgr" else displayer.ROUTES)[name]


@pytest.mark.parametrize("route_id", ROUTE_IDS)
def test_every_route_is_answered_as_its_table_says(
    walked: dict[str, Answer], route_id: str
) -> None:
    """Each route of the Badgr and Displayer tables answers with its documented status and shape."""
    endpoint = _endpoint(route_id)
    answer = walked[route_id]
    assert answer.status_code == endpoint.success
    body = answer.json()
    if endpoint.shape.value == "empty":
        assert body is None
    elif endpoint.shape.value == "envelope":
        assert body["status"]["success"] is True
        assert isinstance(body["result"], list)
        assert (len(body["result"]) == 1) or endpoint.many
    elif endpoint.shape.value == "token":
        assert TokenGrant.model_validate(body).refresh_token
    elif endpoint.shape.value == "image":
        assert answer.content.startswith((b"\x89PNG", b"<svg", b"<?xml"))
    else:
        assert isinstance(body, dict | list)


def test_the_walk_covers_every_route(walked: dict[str, Answer]) -> None:
    """No route of either table is left out of the contract walk."""
    assert set(walked) == set(ROUTE_IDS)


ROWS = [
    pytest.param(version, mode, row, id=f"v{version.value}-{mode.value}-{row.action.value}")
    for (version, mode), rows in MAPPINGS.items()
    for row in rows
]


def _api(store: Store, world: World, version: ApiVersion, mode: Mode) -> BackpackApi:
    url = world.api_url if version is ApiVersion.V2 else world.displayer_url
    with store.transaction() as tx:
        provider = tx.providers.create(url, f"{url}/web", version.value)
        password = ISSUER_PASSWORD if version is ApiVersion.V2 else ""
        tx.accounts.create(provider.id, SITE_OWNER, ISSUER_EMAIL, password)
        password = EARNER_PASSWORD if version is ApiVersion.V2 else ""
        user = tx.accounts.create(provider.id, "alice", EARNER_EMAIL, password)
    account = user if mode is Mode.USER else None
    return BackpackApi(provider, account, store=store, client=BackpackClient(retry=FAST))


def _run_row(api: BackpackApi, world: World, row: Mapping) -> Any:
    action = row.action
    if action is Action.USER:
        return api._curl_request(action)
    if action in (Action.COLLECTIONS, Action.GROUPS):
        return api.get_collections()
    if action is Action.BADGES:
        key = world.collection_id if api.api_version is ApiVersion.V2 else world.group_id
        return api.get_badges(key)
    if action is Action.ASSERTION:
        return api.get_assertion(world.assertion_ids[0])
    if action is Action.IMPORT_BADGE:
        site = BackpackApi(api.provider, store=api._core.store, client=api._client)
        award = site.put_badgeclass_assertion(world.badgeclass_id, assertion_json())
        return award  # imported below, after the earner removed it from the backpack
    issuer = api.put_issuer(issuer_json("Row walker"))
    if action is Action.ISSUERS:
        return issuer
    badge = api.put_badgeclass(issuer.id, badgeclass_json("Row walked"))
    if action is Action.BADGE_CLASSES:
        return badge
    award = api.put_badgeclass_assertion(badge.id, assertion_json())
    if action is Action.ASSERTIONS:
        return award
    return api.update_assertion(award.id, assertion_json())


@pytest.mark.parametrize(("version", "mode", "row"), ROWS)
def test_every_moodle_row_runs_against_the_host(
    store: Store, world: World, version: ApiVersion, mode: Mode, row: Mapping
) -> None:
    """Each row of Moodle's action table, run by BackpackApi, gets a typed result from the host."""
    api = _api(store, world, version, mode)
    try:
        result = _run_row(api, world, row)
        if row.action is Action.IMPORT_BADGE:
            token = api._access_token()[0].access_token.reveal()
            api._client.fetch(
                badgr.route("backpack.assertions.delete"),
                world.api_url,
                params={"assertion": result.id},
                token=token,
            )
            result = api.import_badge_assertion(
                badgr.public_url(world.api_url, "assertions", result.id)
            )
    finally:
        api._client.close()
    if row.result.value == "token":
        assert isinstance(result, TokenGrant)
    elif row.result.value == "displayer_user":
        assert isinstance(result, DisplayerUser)
    elif row.many:
        assert isinstance(result, list | Collection)
    else:
        assert result.id
