"""Public Open Badges 2.0 JSON and images, no authentication (badgr-wire.md §6).

Served at the origin, beside ``/v2``, because Moodle builds these URLs from the API URL's
host. A revoked award still answers 200 with ``revoked: true``; an unknown id is the v2 404
envelope. Images are served directly (Badgr redirects to a media file).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import Connection, select
from starlette.responses import Response

from openbackpack.host import _schema as t
from openbackpack.host._backpack_api import backpack_items, expanded_badgeclass
from openbackpack.host._images import StoredImage, bake
from openbackpack.host._loop import on_loop
from openbackpack.host._queries import (
    find_assertion,
    find_badgeclass,
    find_issuer,
    owner,
)
from openbackpack.host._registry import BADGR, handles
from openbackpack.host._render import (
    assertion_ob,
    badgeclass_ob,
    collection_ob,
    issuer_ob,
    public_url,
)
from openbackpack.host._state import Ctx, Open
from openbackpack.host._wire import json_response, not_found

__all__ = ["collection_badges", "item_document", "public_assertion"]

Expand = Annotated[list[str] | None, Query()]


def _eid(entity: str) -> tuple[str, bool]:
    """The id without a ``.json`` suffix, and whether the suffix was there."""
    return entity.removesuffix(".json"), entity.endswith(".json")


def _document(ctx: Ctx, document: Any, json_suffix: bool) -> Response:
    media_type = "application/json" if json_suffix else None
    return json_response(document, request=ctx.request, media_type=media_type)


def public_assertion(
    connection: Connection, origin: str, eid: str, *, badge: bool, issuer: bool
) -> dict[str, Any]:
    """The OB 2.0 Assertion of a local award, with the badge (and issuer) embedded if asked."""
    row = find_assertion(connection, eid, None)
    embedded = None
    if badge and not row.revoked:
        embedded = badgeclass_ob(
            find_badgeclass(connection, row.bc_eid, None),
            find_issuer(connection, row.issuer_eid, None),
            origin,
            expand_issuer=issuer,
        )
    return assertion_ob(row, origin, badge=embedded)


@handles(BADGR, "public.assertions")
@on_loop
def public_assertions(ctx: Open, entity: str, expand: Expand = None) -> Response:
    """An award's OB 2.0 JSON; ``expand=badge`` and ``expand=badge.issuer`` embed."""
    eid, suffix = _eid(entity)
    wanted = expand or []
    with ctx.tx() as connection:
        document = public_assertion(
            connection,
            ctx.origin,
            eid,
            badge="badge" in wanted,
            issuer="badge.issuer" in wanted,
        )
    return _document(ctx, document, suffix)


@handles(BADGR, "public.badges")
@on_loop
def public_badges(ctx: Open, entity: str, expand: Expand = None) -> Response:
    """A badge class's OB 2.0 JSON; ``expand=issuer`` embeds the issuer."""
    eid, suffix = _eid(entity)
    with ctx.tx() as connection:
        row = find_badgeclass(connection, eid, None)
        issuer = find_issuer(connection, row.issuer_eid, None)
        document = badgeclass_ob(row, issuer, ctx.origin, expand_issuer="issuer" in (expand or []))
    return _document(ctx, document, suffix)


@handles(BADGR, "public.issuers")
@on_loop
def public_issuers(ctx: Open, entity: str) -> Response:
    """An issuer's OB 2.0 Profile JSON."""
    eid, suffix = _eid(entity)
    with ctx.tx() as connection:
        document = issuer_ob(find_issuer(connection, eid, None), ctx.origin)
    return _document(ctx, document, suffix)


@handles(BADGR, "public.issuers.badges")
@on_loop
def public_issuers_badges(ctx: Open, entity: str) -> Response:
    """A bare JSON array of an issuer's badge classes."""
    with ctx.tx() as connection:
        issuer = find_issuer(connection, entity, None)
        rows = connection.execute(
            select(t.badgeclasses)
            .where(t.badgeclasses.c.issuer_id == issuer.id)
            .order_by(t.badgeclasses.c.id)
        ).all()
        documents = [badgeclass_ob(row, issuer, ctx.origin) for row in rows]
    return _document(ctx, documents, False)


def _image(data: bytes | None, media_type: str | None) -> Response:
    if not data or not media_type:
        raise not_found()
    return Response(data, media_type=media_type, headers={"Cache-Control": "max-age=300"})


@handles(BADGR, "public.issuers.image")
def public_issuers_image(ctx: Open, entity: str) -> Response:
    """An issuer's image (404 when it has none)."""
    with ctx.tx() as connection:
        row = find_issuer(connection, entity, None)
    return _image(row.image, row.image_type)


@handles(BADGR, "public.badges.image")
def public_badges_image(ctx: Open, entity: str) -> Response:
    """A badge class's image."""
    with ctx.tx() as connection:
        row = find_badgeclass(connection, entity, None)
    return _image(row.image, row.image_type)


@handles(BADGR, "public.assertions.image")
def public_assertions_image(ctx: Open, entity: str) -> Response:
    """An award's baked image: the badge image carrying the assertion (404 once revoked)."""
    with ctx.tx() as connection:
        row = find_assertion(connection, entity, None)
        if row.revoked:
            raise not_found()
        badgeclass = find_badgeclass(connection, row.bc_eid, None)
        document = assertion_ob(row, ctx.origin)
    verify = public_url(ctx.origin, "assertion", row.entity_id)
    image = StoredImage(badgeclass.image, badgeclass.image_type)
    return _image(bake(image, json.dumps(document), verify), badgeclass.image_type)


@handles(BADGR, "public.collections")
@on_loop
def public_collections(ctx: Open, share: str) -> Response:
    """A published collection with its awards' OB JSON (404 when not published)."""
    with ctx.tx() as connection:
        row = connection.execute(
            select(t.collections).where(t.collections.c.share_hash == share)
        ).one_or_none()
        if row is None:
            raise not_found()
        badges = collection_badges(connection, ctx, row.id, row.user_id)
        document = collection_ob(row, owner(connection, row.user_id), badges, ctx.origin)
    return _document(ctx, document, False)


def collection_badges(
    connection: Connection, ctx: Ctx, collection_id: int, user_id: int
) -> list[dict[str, Any]]:
    """The OB Assertion JSON (badge and issuer embedded) of a collection's live items."""
    viewer = Ctx(ctx.state, ctx.request, ctx.origin, owner(connection, user_id))
    live = {
        row.entity_id: (row, imported)
        for row, imported in backpack_items(
            connection, viewer, include_revoked=False, include_expired=True
        )
    }
    eids = connection.scalars(
        select(t.collection_items.c.item_eid)
        .where(t.collection_items.c.collection_id == collection_id)
        .order_by(t.collection_items.c.position)
    ).all()
    documents = []
    for eid in eids:
        if eid not in live:
            continue
        row, imported = live[eid]
        documents.append(item_document(connection, ctx.origin, row, imported=imported))
    return documents


def item_document(
    connection: Connection, origin: str, row: Any, *, imported: bool
) -> dict[str, Any]:
    """The OB Assertion JSON of a backpack item, with its badge class and issuer embedded."""
    if imported:
        document = dict(json.loads(row.assertion_json))
        document["badge"] = expanded_badgeclass(
            connection, origin, row, imported=True, with_issuer=True
        )
        return document
    return public_assertion(connection, origin, row.entity_id, badge=True, issuer=True)
