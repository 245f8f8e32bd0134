"""The Mozilla Backpack Displayer API (OB 1.x "v1"), read-only (badgr-wire.md §8).

Users are found by a verified e-mail; each published collection is a public group whose
integer id is the collection's row id; unpublished collections are invisible.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from fastapi import Depends, Query
from sqlalchemy import Connection, Row, select
from starlette.requests import Request
from starlette.responses import Response

from openbackpack.host import _schema as t
from openbackpack.host._accounts import HostUser, load_user
from openbackpack.host._body import BodyError, read_body
from openbackpack.host._loop import on_loop
from openbackpack.host._public import collection_badges
from openbackpack.host._registry import DISPLAYER, handles
from openbackpack.host._state import Ctx, HostState, Open
from openbackpack.host._wire import DisplayerError, dumps, v2_time

__all__: list[str] = []

_MISSING: Final = {"httpStatus": 404, "status": "missing"}
_CALLBACK: Final = re.compile(r"^[A-Za-z_$][\w$.]{0,63}$")
_CORS: Final = {"Access-Control-Allow-Origin": "*"}
Callback = Annotated[str | None, Query()]


async def displayer_form(request: Request) -> dict[str, Any]:
    """The lookup body (form or JSON); unreadable bodies are a Displayer 400."""
    state: HostState = request.app.state.host
    try:
        body = await read_body(request, state.settings.max_body_bytes)
    except BodyError as exc:
        raise DisplayerError(exc.status, {"status": "invalid", "error": exc.message}) from None
    return body if isinstance(body, dict) else {}


def _answer(data: Any, callback: str | None, status: int = 200, cors: bool = False) -> Response:
    headers = dict(_CORS) if cors else {}
    if callback and _CALLBACK.match(callback):
        # JSONP always answers 200, error objects included, as the Mozilla backpack did.
        body = callback.encode() + b"(" + dumps(data) + b")"
        return Response(body, media_type="application/javascript", headers=headers)
    return Response(dumps(data), status_code=status, media_type="application/json", headers=headers)


@handles(DISPLAYER, "convert_email")
def convert_email(ctx: Open, form: Annotated[dict[str, Any], Depends(displayer_form)]) -> Response:
    """Look up the user id of a verified e-mail."""
    email = form.get("email")
    if not isinstance(email, str) or not email.strip():
        raise DisplayerError(400, {"status": "invalid", "error": "missing `email` parameter"})
    with ctx.tx() as connection:
        user_id = connection.scalar(
            select(t.emails.c.user_id).where(
                t.emails.c.email == email.strip().lower(), t.emails.c.verified.is_(True)
            )
        )
    if user_id is None:
        raise DisplayerError(
            404,
            {
                "status": "missing",
                "error": f"Could not find a user by the email address `{email}`",
            },
        )
    return _answer({"status": "okay", "email": email, "userId": user_id}, None)


def _user(connection: Connection, user: str) -> HostUser | None:
    return load_user(connection, int(user)) if user.isdigit() and len(user) < 12 else None


def _group_row(connection: Connection, user_id: int, group: str) -> Row[Any] | None:
    if not group.isdigit() or len(group) >= 12:
        return None
    return connection.execute(
        select(t.collections).where(
            t.collections.c.id == int(group),
            t.collections.c.user_id == user_id,
            t.collections.c.share_hash.is_not(None),
        )
    ).one_or_none()


@handles(DISPLAYER, "groups")
@on_loop
def groups(ctx: Open, user: str, callback: Callback = None) -> Response:
    """A user's public groups, each with its badge count."""
    with ctx.tx() as connection:
        found = _user(connection, user)
        if found is None:
            return _answer(_MISSING, callback, 404, cors=True)
        rows = connection.execute(
            select(t.collections)
            .where(t.collections.c.user_id == found.id, t.collections.c.share_hash.is_not(None))
            .order_by(t.collections.c.id)
        ).all()
        result = [
            {"groupId": row.id, "name": row.name, "badges": _count(connection, ctx, row)}
            for row in rows
        ]
    return _answer({"userId": found.id, "groups": result}, callback, cors=True)


def _count(connection: Connection, ctx: Ctx, row: Row[Any]) -> int:
    return len(collection_badges(connection, ctx, row.id, row.user_id))


@handles(DISPLAYER, "group")
@on_loop
def group(ctx: Open, user: str, group: str, callback: Callback = None) -> Response:
    """The badges of one public group: the stored assertion JSON with badge and issuer."""
    with ctx.tx() as connection:
        found = _user(connection, user)
        row = _group_row(connection, found.id, group) if found is not None else None
        if found is None or row is None:
            return _answer(_MISSING, callback, 404, cors=True)
        badges = [
            {
                "lastValidated": v2_time(row.created_at),
                "assertionType": "hosted",
                "hostedUrl": document.get("id"),
                "assertion": document,
                "imageUrl": document.get("image")
                if isinstance(document.get("image"), str)
                else None,
            }
            for document in collection_badges(connection, ctx, row.id, row.user_id)
        ]
    return _answer({"userId": found.id, "groupId": row.id, "badges": badges}, callback, cors=True)
