"""The Open Badges 3.0 API on the host: ``/ims/ob/v3p0/credentials`` and ``/profile``.

``getCredentials`` pages with ``limit`` (default 100, at most 500) and ``offset`` and
filters with ``since`` (issued after; a time without a zone is UTC); ``X-Total-Count`` gives
the number of matching credentials and ``Link`` the ``first``, ``last``, ``prev`` and
``next`` pages. ``upsertCredential`` verifies, then stores by the specification's rule and
answers 201 (created) or 200 (replaced) with the credential as it was sent. Every route
needs a 3.0 access token carrying its scope (403 ``forbidden`` otherwise).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import Depends, Query
from starlette.responses import Response

from openbackpack.host._accounts import HostUser, load_user
from openbackpack.host._loop import on_loop
from openbackpack.host._ob3store import (
    credentials_page,
    host_loader,
    keys_of,
    upsert_credential,
    verify_pushed,
)
from openbackpack.host._ob3wire import (
    Ob3Authed,
    Ob3Ctx,
    Ob3Error,
    Pushed,
    ob3_json,
    ob3_profile_body,
    read_pushed,
)
from openbackpack.host._profiles import ProfileError, profile_id, update_profile
from openbackpack.host._registry import OB3API, handles
from openbackpack.host._state import HostState
from openbackpack.host._validate import parse_datetime
from openbackpack.models.ob3api import CodeMinor
from openbackpack.protocols.ob3api import API_PATH, Scope

__all__: list[str] = []

_DEFAULT_LIMIT: Final = 100
_MAX_LIMIT: Final = 500
_INT32: Final = 2**31 - 1


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = parse_datetime(value)
    if moment is None:
        raise Ob3Error(
            400,
            CodeMinor.INVALID_QUERY_PARAMETER,
            "since must be an ISO 8601 date-time (YYYY-MM-DDThh:mm:ss, UTC unless zoned).",
        )
    return moment


def _page_url(ob3: Ob3Ctx, limit: int, offset: int, since: str | None) -> str:
    query: list[tuple[str, str]] = [("limit", str(limit)), ("offset", str(offset))]
    if since is not None:
        query.append(("since", since))
    return f"{ob3.ctx.origin}{API_PATH}/credentials?{urlencode(query)}"


def _links(ob3: Ob3Ctx, limit: int, offset: int, total: int, since: str | None) -> str:
    last = max(0, (total - 1) // limit * limit)
    relations = [("first", 0), ("last", last)]
    if offset + limit < total:
        relations.append(("next", offset + limit))
    if offset > 0:
        relations.append(("prev", max(0, min(offset - limit, last))))
    return ", ".join(
        f'<{_page_url(ob3, limit, target, since)}>; rel="{rel}"' for rel, target in relations
    )


Limit = Annotated[int | None, Query(ge=1, le=_INT32)]
Offset = Annotated[int | None, Query(ge=0, le=_INT32)]
Since = Annotated[str | None, Query(description="Issued after (ISO 8601 date-time)")]


@handles(OB3API, "credentials.list")
@on_loop
def credentials_list(
    ob3: Ob3Authed, limit: Limit = None, offset: Offset = None, since: Since = None
) -> Response:
    """The caller's credentials, paged, with ``X-Total-Count`` and ``Link``."""
    ob3.need(Scope.CREDENTIAL_READONLY)
    size = min(limit or _DEFAULT_LIMIT, _MAX_LIMIT)
    start = offset or 0
    moment = _since(since)
    with ob3.ctx.tx() as connection:
        page = credentials_page(connection, ob3.ctx.me.id, limit=size, offset=start, since=moment)
    body: dict[str, list[Any]] = {"credential": [], "compactJwsString": []}
    for item in page.items:
        if item.format == "jwt":
            body["compactJwsString"].append(item.document)
        else:
            body["credential"].append(json.loads(item.document))
    headers = {
        "X-Total-Count": str(page.total),
        "Link": _links(ob3, size, start, page.total, since),
    }
    return ob3_json(body, headers=headers)


@handles(OB3API, "credentials.upsert")
def credentials_upsert(ob3: Ob3Authed, pushed: Annotated[Pushed, Depends(read_pushed)]) -> Response:
    """Verify and store a credential: 201 when new, 200 when it replaced one; echo it."""
    ob3.need(Scope.CREDENTIAL_UPSERT)
    state: HostState = ob3.ctx.state
    signed = verify_pushed(
        pushed,
        host_loader(state.fetcher, state.status_lists),
        accept_unchecked=ob3.ctx.settings.ob3_accept_unchecked,
    )
    keys = keys_of(signed)
    with ob3.ctx.tx() as connection:
        created = upsert_credential(connection, ob3.ctx.me.id, keys, pushed)
    status = 201 if created else 200
    if pushed.jws is not None:
        return Response(
            pushed.jws, status, media_type="text/plain", headers={"Cache-Control": "no-store"}
        )
    return ob3_json(pushed.document, status)


def _profile(user: HostUser) -> dict[str, Any]:
    profile: dict[str, Any] = {"id": profile_id(user), "type": ["Profile"]}
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    if name:
        profile["name"] = name
    if user.first_name:
        profile["givenName"] = user.first_name
    if user.last_name:
        profile["familyName"] = user.last_name
    profile["email"] = user.primary_email
    return profile


@handles(OB3API, "profile.get")
@on_loop
def profile_get(ob3: Ob3Authed) -> Response:
    """The caller's OB 3.0 Profile: id, type, names and primary e-mail."""
    ob3.need(Scope.PROFILE_READONLY)
    return ob3_json(_profile(ob3.ctx.me))


def _check_profile(body: Any, user: HostUser) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Ob3Error(400, CodeMinor.INVALID_DATA, "The profile must be a JSON object.")
    kinds = body.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if not isinstance(kinds, list) or "Profile" not in kinds:
        raise Ob3Error(400, CodeMinor.INVALID_DATA, "type must include Profile.")
    if body.get("id") != profile_id(user):
        raise Ob3Error(
            400,
            CodeMinor.INVALID_DATA,
            f"id must be this account's profile id, {profile_id(user)}.",
        )
    return body


@handles(OB3API, "profile.update")
@on_loop
def profile_update(ob3: Ob3Authed, body: Annotated[Any, Depends(ob3_profile_body)]) -> Response:
    """Replace the caller's profile: names and (a verified) primary e-mail; 200 with it."""
    ob3.need(Scope.PROFILE_UPDATE)
    profile = _check_profile(body, ob3.ctx.me)
    with ob3.ctx.tx() as connection:
        try:
            update_profile(
                connection,
                ob3.ctx.me,
                name=profile.get("name"),
                given_name=profile.get("givenName"),
                family_name=profile.get("familyName"),
                email=profile.get("email"),
            )
        except ProfileError as exc:
            raise Ob3Error(400, CodeMinor.INVALID_DATA, str(exc)) from None
        user = load_user(connection, ob3.ctx.me.id)
    assert user is not None
    return ob3_json(_profile(user))
