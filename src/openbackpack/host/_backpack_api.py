"""The earner side of Badgr v2: backpack assertions, collections and imports (§5)."""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import Connection, Row, delete, insert, select, update
from starlette.responses import Response

from openbackpack.host import _schema as t
from openbackpack.host._db import insert_id
from openbackpack.host._import import import_badge
from openbackpack.host._loop import on_loop
from openbackpack.host._queries import (
    backpack_assertions,
    find_badgeclass,
    find_issuer,
    imported_items,
)
from openbackpack.host._registry import BADGR, handles
from openbackpack.host._render import badgeclass_ob, collection_v2, imported_item, local_item
from openbackpack.host._state import Authed, BadgrBody, Ctx
from openbackpack.host._validate import MISSING, Fields, as_object
from openbackpack.host._wire import bad_request, envelope, new_entity_id, not_found
from openbackpack.store._types import utcnow

__all__ = ["backpack_items", "expanded_badgeclass", "render_item"]

Flag = Annotated[str | None, Query()]
Expand = Annotated[list[str] | None, Query()]


def _on(value: str | None) -> bool:
    return value in ("1", "true")


def expanded_badgeclass(
    connection: Connection, origin: str, item: Row[Any], *, imported: bool, with_issuer: bool
) -> dict[str, Any]:
    """The OB BadgeClass JSON of a backpack item, its issuer embedded when asked."""
    if imported:
        badge = dict(json.loads(item.badgeclass_json))
        issuer = json.loads(item.issuer_json)
        badge["issuer"] = issuer if with_issuer else issuer.get("id")
        return badge
    badgeclass = find_badgeclass(connection, item.bc_eid, None)
    issuer_row = find_issuer(connection, item.issuer_eid, None)
    return badgeclass_ob(badgeclass, issuer_row, origin, expand_issuer=with_issuer)


def render_item(
    ctx: Ctx, connection: Connection, item: Row[Any], *, imported: bool, expand: list[str]
) -> dict[str, Any]:
    """One backpack item; ``expand=badgeclass`` (and ``issuer``) embed the OB documents."""
    badgeclass: Any = item.badgeclass_eid if imported else item.bc_eid
    if "badgeclass" in expand:
        badgeclass = expanded_badgeclass(
            connection, ctx.origin, item, imported=imported, with_issuer="issuer" in expand
        )
    if imported:
        return imported_item(item, ctx.api_url, badgeclass)
    return local_item(item, ctx.origin, badgeclass)


def backpack_items(
    connection: Connection, ctx: Ctx, *, include_revoked: bool, include_expired: bool
) -> list[tuple[Row[Any], bool]]:
    """The caller's items, oldest first, as (row, imported) pairs; rejected ones never."""
    now = utcnow()
    local = backpack_assertions(
        connection,
        ctx.me,
        include_revoked=include_revoked,
        include_expired=include_expired,
        now=now,
    )
    remote = imported_items(connection, ctx.me.id, include_expired=include_expired, now=now)
    pairs = [(row, False) for row in local] + [(row, True) for row in remote]
    return sorted(pairs, key=lambda pair: pair[0].created_at)


def _find_item(connection: Connection, ctx: Ctx, eid: str) -> tuple[Row[Any], bool]:
    local = backpack_assertions(connection, ctx.me, entity_id=eid, include_rejected=True)
    if local:
        return local[0], False
    remote = imported_items(connection, ctx.me.id, entity_id=eid)
    if remote:
        return remote[0], True
    raise not_found()


@handles(BADGR, "backpack.assertions.list")
@on_loop
def backpack_assertions_list(
    ctx: Authed,
    include_expired: Flag = None,
    include_revoked: Flag = None,
    include_pending: Flag = None,
    expand: Expand = None,
) -> Response:
    """The caller's backpack; revoked and expired awards only when asked."""
    with ctx.tx() as connection:
        pairs = backpack_items(
            connection,
            ctx,
            include_revoked=_on(include_revoked),
            include_expired=_on(include_expired),
        )
        result = [
            render_item(ctx, connection, row, imported=imported, expand=expand or [])
            for row, imported in pairs
        ]
    return envelope(result, request=ctx.request)


@handles(BADGR, "backpack.assertions.get")
@on_loop
def backpack_assertions_get(ctx: Authed, assertion: str, expand: Expand = None) -> Response:
    """One backpack item, even a rejected one; ``expand=badgeclass&expand=issuer`` works."""
    with ctx.tx() as connection:
        row, imported = _find_item(connection, ctx, assertion)
        result = render_item(ctx, connection, row, imported=imported, expand=expand or [])
    return envelope([result], request=ctx.request)


@handles(BADGR, "backpack.assertions.update")
@on_loop
def backpack_assertions_update(ctx: Authed, assertion: str, body: BadgrBody) -> Response:
    """Accept an award: ``{"acceptance": "Accepted"}`` is the only change allowed."""
    acceptance = as_object(body).get("acceptance")
    with ctx.tx() as connection:
        row, imported = _find_item(connection, ctx, assertion)
        if acceptance != "Accepted":
            raise bad_request({"acceptance": [f'"{acceptance}" is not a valid choice.']})
        table = t.imports if imported else t.assertions
        connection.execute(update(table).where(table.c.id == row.id).values(acceptance="Accepted"))
        row, imported = _find_item(connection, ctx, assertion)
        result = render_item(ctx, connection, row, imported=imported, expand=[])
    return envelope([result], request=ctx.request)


@handles(BADGR, "backpack.assertions.delete")
@on_loop
def backpack_assertions_delete(ctx: Authed, assertion: str) -> Response:
    """Remove an item: a local award becomes ``Rejected``, an imported one is deleted."""
    with ctx.tx() as connection:
        row, imported = _find_item(connection, ctx, assertion)
        if imported:
            connection.execute(delete(t.imports).where(t.imports.c.id == row.id))
        else:
            connection.execute(
                update(t.assertions)
                .where(t.assertions.c.id == row.id)
                .values(acceptance="Rejected")
            )
        owned = select(t.collections.c.id).where(t.collections.c.user_id == ctx.me.id)
        connection.execute(
            delete(t.collection_items).where(
                t.collection_items.c.item_eid == assertion,
                t.collection_items.c.collection_id.in_(owned),
            )
        )
    return Response(status_code=204)


@handles(BADGR, "backpack.assertions.image")
def backpack_assertions_image(ctx: Authed, assertion: str) -> Response:
    """The image of a backpack item: the baked image that was imported, or the award's."""
    with ctx.tx() as connection:
        row, imported = _find_item(connection, ctx, assertion)
    if not imported:
        return Response(
            status_code=302,
            headers={"Location": f"{ctx.origin}/public/assertions/{assertion}/image"},
        )
    if not row.image:
        raise not_found()
    return Response(row.image, media_type=row.image_type)


@handles(BADGR, "backpack.import")
def backpack_import(ctx: Authed, body: BadgrBody) -> Response:
    """Import an award by ``url``, baked ``image`` or ``assertion`` object, verified first."""
    data = as_object(body)
    given = [key for key in ("url", "image", "assertion") if data.get(key) not in (None, "", {})]
    if len(given) != 1:
        raise bad_request(
            validation_errors=["Must provide only one of 'url', 'image' or 'assertion'."]
        )
    with ctx.tx() as connection:
        row, imported = import_badge(ctx, connection, given[0], data[given[0]])
        result = render_item(ctx, connection, row, imported=imported, expand=[])
    return envelope([result], 201, request=ctx.request)


# ---------------------------------------------------------------- collections


def _collection_values(body: Any) -> tuple[dict[str, Any], Any, Fields]:
    fields = Fields(body)
    values: dict[str, Any] = {
        "name": fields.text("name", required=True, max_length=128, strip_tags=True),
        "description": fields.text("description", max_length=255),
    }
    published = fields.boolean("published", False) if fields.present("published") else MISSING
    assertions = fields.strings("assertions", max_length=64)
    fields.check()
    if values["description"] is None:
        values["description"] = ""
    if published is not MISSING:
        values["published"] = published
    return {k: v for k, v in values.items() if v is not MISSING}, assertions, fields


def _set_items(connection: Connection, ctx: Ctx, collection_id: int, eids: list[str]) -> None:
    mine = {
        row.entity_id
        for row, _ in backpack_items(connection, ctx, include_revoked=True, include_expired=True)
    }
    unknown = [eid for eid in eids if eid not in mine]
    if unknown:
        raise bad_request(
            {"assertions": [f'Invalid entity_id "{unknown[0]}" - object does not exist.']}
        )
    connection.execute(
        delete(t.collection_items).where(t.collection_items.c.collection_id == collection_id)
    )
    unique = list(dict.fromkeys(eids))
    if unique:
        connection.execute(
            insert(t.collection_items),
            [
                {"collection_id": collection_id, "item_eid": eid, "position": index}
                for index, eid in enumerate(unique)
            ],
        )


def _share_hash(row: Row[Any] | None, published: bool) -> str | None:
    if not published:
        return None
    return row.share_hash if row is not None and row.share_hash else secrets.token_hex(16)


def _collection_item(ctx: Ctx, connection: Connection, row: Row[Any]) -> dict[str, Any]:
    live = {
        item.entity_id
        for item, _ in backpack_items(connection, ctx, include_revoked=False, include_expired=True)
    }
    eids = connection.scalars(
        select(t.collection_items.c.item_eid)
        .where(t.collection_items.c.collection_id == row.id)
        .order_by(t.collection_items.c.position)
    ).all()
    return collection_v2(row, ctx.me.entity_id, [e for e in eids if e in live], ctx.origin)


def _find_collection(connection: Connection, ctx: Ctx, eid: str) -> Row[Any]:
    row = connection.execute(
        select(t.collections).where(
            t.collections.c.entity_id == eid, t.collections.c.user_id == ctx.me.id
        )
    ).one_or_none()
    if row is None:
        raise not_found()
    return row


@handles(BADGR, "backpack.collections.list")
@on_loop
def backpack_collections_list(ctx: Authed) -> Response:
    """Every collection of the caller."""
    with ctx.tx() as connection:
        rows = connection.execute(
            select(t.collections)
            .where(t.collections.c.user_id == ctx.me.id)
            .order_by(t.collections.c.id)
        ).all()
        result = [_collection_item(ctx, connection, row) for row in rows]
    return envelope(result, request=ctx.request)


@handles(BADGR, "backpack.collections.create")
@on_loop
def backpack_collections_create(ctx: Authed, body: BadgrBody) -> Response:
    """Create a collection; unlike Badgr (a 500), ``assertions`` may be given at once."""
    values, assertions, _ = _collection_values(body)
    published = bool(values.pop("published", False))
    with ctx.tx() as connection:
        collection_id = insert_id(
            connection,
            insert(t.collections).values(
                entity_id=new_entity_id(),
                user_id=ctx.me.id,
                share_hash=_share_hash(None, published),
                created_at=utcnow(),
                **{"description": "", **values},
            ),
        )
        if isinstance(assertions, list):
            _set_items(connection, ctx, collection_id, assertions)
        row = connection.execute(
            select(t.collections).where(t.collections.c.id == collection_id)
        ).one()
        result = _collection_item(ctx, connection, row)
    return envelope([result], 201, request=ctx.request)


@handles(BADGR, "backpack.collections.get")
@on_loop
def backpack_collections_get(ctx: Authed, collection: str) -> Response:
    """One collection of the caller."""
    with ctx.tx() as connection:
        result = _collection_item(ctx, connection, _find_collection(connection, ctx, collection))
    return envelope([result], request=ctx.request)


@handles(BADGR, "backpack.collections.update")
@on_loop
def backpack_collections_update(ctx: Authed, collection: str, body: BadgrBody) -> Response:
    """Replace a collection (``name`` required); ``assertions`` replaces the list when given."""
    with ctx.tx() as connection:
        row = _find_collection(connection, ctx, collection)
        values, assertions, _ = _collection_values(body)
        if "published" in values:
            values["share_hash"] = _share_hash(row, bool(values.pop("published")))
        connection.execute(
            update(t.collections).where(t.collections.c.id == row.id).values(**values)
        )
        if isinstance(assertions, list):
            _set_items(connection, ctx, row.id, assertions)
        row = connection.execute(select(t.collections).where(t.collections.c.id == row.id)).one()
        result = _collection_item(ctx, connection, row)
    return envelope([result], request=ctx.request)


@handles(BADGR, "backpack.collections.delete")
@on_loop
def backpack_collections_delete(ctx: Authed, collection: str) -> Response:
    """Delete a collection (the awards stay in the backpack)."""
    with ctx.tx() as connection:
        row = _find_collection(connection, ctx, collection)
        connection.execute(delete(t.collections).where(t.collections.c.id == row.id))
    return Response(status_code=204)
