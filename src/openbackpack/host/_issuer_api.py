"""The issuer side of Badgr v2: issuers, badge classes, awards and revocation (§4)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import Query
from sqlalchemy import Connection, Row, delete, func, insert, select, update
from starlette.responses import Response

from openbackpack.host import _schema as t
from openbackpack.host._db import insert_id
from openbackpack.host._images import ImageError, parse_image_input
from openbackpack.host._loop import on_loop
from openbackpack.host._paging import paginate
from openbackpack.host._queries import (
    assertion_by_id,
    assertion_query,
    badgeclass_query,
    find_assertion,
    find_badgeclass,
    find_issuer,
    owner,
)
from openbackpack.host._registry import BADGR, handles
from openbackpack.host._render import assertion_v2, badgeclass_v2, issuer_v2
from openbackpack.host._state import Authed, BadgrBody, Ctx
from openbackpack.host._validate import MISSING, Fields, as_object, parse_email, parse_url
from openbackpack.host._wire import BadgrError, bad_request, envelope, new_entity_id
from openbackpack.store._types import utcnow

__all__: list[str] = []

ISSUER_EMAIL: Final = (
    "Issuer email must be one of your verified addresses. "
    "Add this email to your profile and try again."
)
MULTIPLE_IDS: Final = (
    "Multiple badge class identifiers. Exactly one of the following badge class identifiers "
    "are allowed: badgeclass, badgeclassName, or badgeclassOpenBadgeId"
)
_DURATIONS: Final = ("days", "weeks", "months", "years")
_MAX_INT: Final = 2147483647
_MAX_IDENTITY: Final = 1024
_RECIPIENT_TYPES: Final = ("email", "url", "telephone", "openBadgeId")
Flags = Annotated[str | None, Query()]


def _on(value: str | None) -> bool:
    return value in ("1", "true")


def _domain(ctx: Ctx) -> str:
    return ctx.request.url.hostname or ""


# ---------------------------------------------------------------- issuers


def _issuer_item(ctx: Ctx, connection: Connection, row: Row[Any]) -> dict[str, Any]:
    return issuer_v2(row, owner(connection, row.owner_id), ctx.origin, _domain(ctx))


def _image_field(fields: Fields, name: str, *, required: bool) -> Any:
    try:
        image = parse_image_input(fields.body.get(name))
    except ImageError as exc:
        fields.error(name, exc.message)
        return MISSING
    if image is None and required:
        # Badgr answers this one with a bare string, not a list.
        fields.errors[name] = "Valid image file or data URI required."
    return image


def _issuer_values(ctx: Ctx, body: Any) -> dict[str, Any]:
    fields = Fields(body)
    values = {
        "name": fields.text("name", required=True, max_length=1024, strip_tags=True),
        "email": fields.email("email", required=True),
        "url": fields.url("url", required=True),
        "description": fields.text("description", max_length=16384, strip_tags=True),
        "extensions": fields.mapping("extensions"),
    }
    image = _image_field(fields, "image", required=False)
    fields.check()
    if image is not None and image is not MISSING:
        values["image"], values["image_type"] = image.data, image.media_type
    if values["extensions"] is not MISSING:
        values["extensions"] = json.dumps(values["extensions"] or {})
    return {key: value for key, value in values.items() if value is not MISSING}


@handles(BADGR, "issuers.list")
@on_loop
def issuers_list(ctx: Authed) -> Response:
    """Every issuer the caller owns."""
    with ctx.tx() as connection:
        rows = connection.execute(
            select(t.issuers).where(t.issuers.c.owner_id == ctx.me.id).order_by(t.issuers.c.id)
        ).all()
        result = [_issuer_item(ctx, connection, row) for row in rows]
    return envelope(result, request=ctx.request)


@handles(BADGR, "issuers.create")
def issuers_create(ctx: Authed, body: BadgrBody) -> Response:
    """Create an issuer whose e-mail is one of the caller's verified addresses."""
    values = _issuer_values(ctx, body)
    if values["email"] not in ctx.me.verified_emails:
        raise bad_request(validation_errors=[ISSUER_EMAIL])
    values.setdefault("extensions", "{}")
    with ctx.tx() as connection:
        issuer_id = insert_id(
            connection,
            insert(t.issuers).values(
                entity_id=new_entity_id(), owner_id=ctx.me.id, created_at=utcnow(), **values
            ),
        )
        row = connection.execute(select(t.issuers).where(t.issuers.c.id == issuer_id)).one()
        result = _issuer_item(ctx, connection, row)
    return envelope([result], 201, request=ctx.request)


@handles(BADGR, "issuers.get")
@on_loop
def issuers_get(ctx: Authed, issuer: str) -> Response:
    """One issuer of the caller."""
    with ctx.tx() as connection:
        result = _issuer_item(ctx, connection, find_issuer(connection, issuer, ctx.me.id))
    return envelope([result], request=ctx.request)


@handles(BADGR, "issuers.update")
def issuers_update(ctx: Authed, issuer: str, body: BadgrBody) -> Response:
    """Replace an issuer's fields (a full update: the required fields are required again)."""
    with ctx.tx() as connection:
        row = find_issuer(connection, issuer, ctx.me.id)
        values = _issuer_values(ctx, body)
        connection.execute(update(t.issuers).where(t.issuers.c.id == row.id).values(**values))
        row = connection.execute(select(t.issuers).where(t.issuers.c.id == row.id)).one()
        result = _issuer_item(ctx, connection, row)
    return envelope([result], request=ctx.request)


def _live_awards(connection: Connection, *conditions: Any) -> int:
    query = (
        select(func.count())
        .select_from(t.assertions.join(t.badgeclasses))
        .where(t.assertions.c.revoked.is_(False), *conditions)
    )
    return int(connection.scalar(query) or 0)


@handles(BADGR, "issuers.delete")
@on_loop
def issuers_delete(ctx: Authed, issuer: str) -> Response:
    """Delete an issuer that has no unrevoked awards (its badge classes go with it)."""
    with ctx.tx() as connection:
        row = find_issuer(connection, issuer, ctx.me.id)
        if _live_awards(connection, t.badgeclasses.c.issuer_id == row.id):
            raise BadgrError(
                400, "Issuer can not be deleted because it has previously issued badges."
            )
        connection.execute(delete(t.issuers).where(t.issuers.c.id == row.id))
    return Response(status_code=204)


# ---------------------------------------------------------------- badge classes


def _alignments(fields: Fields) -> Any:
    items = fields.items("alignments")
    if not isinstance(items, list):
        return items
    errors: list[dict[str, list[str]]] = []
    result = []
    for item in items:
        problems: dict[str, list[str]] = {}
        if not isinstance(item, dict):
            errors.append({"non_field_errors": ["Invalid data."]})
            continue
        for key in ("targetName", "targetUrl"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                problems[key] = ["This field is required."]
        target = item.get("targetUrl")
        if isinstance(target, str) and target.strip() and parse_url(target) is None:
            problems["targetUrl"] = ["Enter a valid URL."]
        keys = ("targetName", "targetUrl", "targetDescription", "targetFramework", "targetCode")
        for key in keys[2:]:
            if item.get(key) is not None and not isinstance(item[key], str):
                problems[key] = ["Not a valid string."]
        errors.append(problems)
        result.append({key: item.get(key) for key in keys})
    if any(errors):
        fields.errors["alignments"] = errors
        return MISSING
    return result


def _expires(fields: Fields) -> Any:
    value = fields.mapping("expires")
    if not isinstance(value, dict):
        return value
    amount, duration = value.get("amount"), value.get("duration")
    if amount in (None, "") and duration in (None, ""):
        return None
    problems: dict[str, list[str]] = {}
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        problems["amount"] = ["Ensure this value is greater than or equal to 1."]
    elif amount > _MAX_INT:
        problems["amount"] = [f"Ensure this value is less than or equal to {_MAX_INT}."]
    if duration not in _DURATIONS:
        problems["duration"] = [f'"{duration}" is not a valid choice.']
    if problems:
        fields.errors["expires"] = problems
        return MISSING
    return {"amount": amount, "duration": duration}


def _badgeclass_values(body: Any, *, create: bool) -> tuple[dict[str, Any], Fields]:
    fields = Fields(body)
    values: dict[str, Any] = {
        "name": fields.text("name", required=True, max_length=255, strip_tags=True),
        "description": fields.text("description", required=True, max_length=16384, strip_tags=True),
        "criteria_url": fields.url("criteriaUrl"),
        "criteria_narrative": fields.markdown("criteriaNarrative"),
    }
    image = _image_field(fields, "image", required=create)
    alignments, tags = _alignments(fields), fields.strings("tags")
    expires, extensions = _expires(fields), fields.mapping("extensions")
    if image is not None and image is not MISSING:
        values["image"], values["image_type"] = image.data, image.media_type
    if alignments is not MISSING:
        values["alignments"] = json.dumps(alignments or [])
    if tags is not MISSING:
        values["tags"] = json.dumps(tags or [])
    if expires is not MISSING:
        values["expires_amount"] = expires["amount"] if expires else None
        values["expires_duration"] = expires["duration"] if expires else None
    if extensions is not MISSING:
        values["extensions"] = json.dumps(extensions or {})
    return {key: value for key, value in values.items() if value is not MISSING}, fields


def _badgeclass_item(ctx: Ctx, connection: Connection, row: Row[Any]) -> dict[str, Any]:
    issuer = find_issuer(connection, row.issuer_eid, None)
    return badgeclass_v2(row, issuer, owner(connection, row.owner_id).entity_id, ctx.origin)


def _create_badgeclass(ctx: Ctx, issuer_eid: str | None, body: Any) -> Response:
    values, fields = _badgeclass_values(body, create=True)
    if issuer_eid is None:
        named = fields.body.get("issuer")
        if not isinstance(named, str) or not named:
            fields.errors["issuer"] = "This field is required"
        issuer_eid = named if isinstance(named, str) else ""
    fields.check()
    with ctx.tx() as connection:
        issuer = _issuer_in_body(connection, ctx, issuer_eid, fields.present("issuer"))
        bc_id = insert_id(
            connection,
            insert(t.badgeclasses).values(
                entity_id=new_entity_id(), issuer_id=issuer.id, created_at=utcnow(), **values
            ),
        )
        row = connection.execute(badgeclass_query().where(t.badgeclasses.c.id == bc_id)).one()
        result = _badgeclass_item(ctx, connection, row)
    return envelope([result], 201, request=ctx.request)


def _issuer_in_body(connection: Connection, ctx: Ctx, eid: str, from_body: bool) -> Row[Any]:
    if not from_body:
        return find_issuer(connection, eid, ctx.me.id)
    row = connection.execute(
        select(t.issuers).where(t.issuers.c.entity_id == eid, t.issuers.c.owner_id == ctx.me.id)
    ).one_or_none()
    if row is None:
        raise bad_request({"issuer": [f'Invalid entity_id "{eid}" - object does not exist.']})
    return row


def _badgeclass_page(ctx: Ctx, connection: Connection, *conditions: Any) -> Response:
    query = badgeclass_query().where(t.issuers.c.owner_id == ctx.me.id, *conditions)
    # Ids are handed out in creation order; ordering by the key alone lets the database
    # walk the index newest first instead of sorting every row for each page.
    order = (t.badgeclasses.c.id,)
    page, headers = paginate(connection, ctx.request, query, order)
    result = [_badgeclass_item(ctx, connection, row) for row in page]
    return envelope(result, request=ctx.request, headers=headers)


@handles(BADGR, "badgeclasses.list")
@on_loop
def badgeclasses_list(ctx: Authed, num: Flags = None, cursor: Flags = None) -> Response:
    """Every badge class of the caller's issuers (paged with ``num``)."""
    with ctx.tx() as connection:
        return _badgeclass_page(ctx, connection)


@handles(BADGR, "badgeclasses.create")
def badgeclasses_create(ctx: Authed, body: BadgrBody) -> Response:
    """Create a badge class for the issuer named in the body."""
    return _create_badgeclass(ctx, None, body)


@handles(BADGR, "issuer.badgeclasses.list")
@on_loop
def issuer_badgeclasses_list(
    ctx: Authed, issuer: str, num: Flags = None, cursor: Flags = None
) -> Response:
    """An issuer's badge classes (paged with ``num``)."""
    with ctx.tx() as connection:
        row = find_issuer(connection, issuer, ctx.me.id)
        return _badgeclass_page(ctx, connection, t.badgeclasses.c.issuer_id == row.id)


@handles(BADGR, "issuer.badgeclasses.create")
def issuer_badgeclasses_create(ctx: Authed, issuer: str, body: BadgrBody) -> Response:
    """Create a badge class under the issuer in the path (what Moodle calls)."""
    return _create_badgeclass(ctx, issuer, body)


@handles(BADGR, "badgeclasses.get")
@on_loop
def badgeclasses_get(ctx: Authed, badgeclass: str) -> Response:
    """One badge class."""
    with ctx.tx() as connection:
        result = _badgeclass_item(
            ctx, connection, find_badgeclass(connection, badgeclass, ctx.me.id)
        )
    return envelope([result], request=ctx.request)


@handles(BADGR, "badgeclasses.update")
def badgeclasses_update(ctx: Authed, badgeclass: str, body: BadgrBody) -> Response:
    """Replace a badge class's fields; the issuer cannot change, the image may."""
    with ctx.tx() as connection:
        row = find_badgeclass(connection, badgeclass, ctx.me.id)
        values, fields = _badgeclass_values(body, create=False)
        fields.check()
        connection.execute(
            update(t.badgeclasses).where(t.badgeclasses.c.id == row.id).values(**values)
        )
        row = connection.execute(badgeclass_query().where(t.badgeclasses.c.id == row.id)).one()
        result = _badgeclass_item(ctx, connection, row)
    return envelope([result], request=ctx.request)


@handles(BADGR, "badgeclasses.delete")
@on_loop
def badgeclasses_delete(ctx: Authed, badgeclass: str) -> Response:
    """Delete a badge class whose awards are all revoked."""
    with ctx.tx() as connection:
        row = find_badgeclass(connection, badgeclass, ctx.me.id)
        if _live_awards(connection, t.assertions.c.badgeclass_id == row.id):
            raise BadgrError(
                400, "BadgeClass may only be deleted if all BadgeInstances have been revoked."
            )
        connection.execute(delete(t.badgeclasses).where(t.badgeclasses.c.id == row.id))
    return Response(status_code=204)


# ---------------------------------------------------------------- awards


def _recipient(fields: Fields, *, required: bool) -> Any:
    value = fields.mapping("recipient")
    if value is MISSING:
        if required:
            fields.errors["recipient"] = ["This field is required"]
        return MISSING
    if value is None:
        fields.error("recipient", "This field may not be null.")
        return MISSING
    kind = value.get("type", "email") or "email"
    if kind not in _RECIPIENT_TYPES:
        fields.errors["recipient"] = {"type": [f'"{kind}" is not a valid choice.']}
        return MISSING
    identity = value.get("identity")
    if not isinstance(identity, str) or not identity.strip():
        fields.errors["recipient"] = {"identity": ["This field is required."]}
        return MISSING
    if len(identity) > _MAX_IDENTITY:
        too_long = f"Ensure this field has no more than {_MAX_IDENTITY} characters."
        fields.errors["recipient"] = {"identity": [too_long]}
        return MISSING
    checked = _identity(kind, identity)
    if checked is None:
        messages = {
            "email": "Enter a valid email address.",
            "telephone": "Enter a valid phone number.",
        }
        fields.errors["recipient"] = {
            "non_field_errors": [messages.get(kind, "Enter a valid URL.")]
        }
        return MISSING
    hashed = value.get("hashed")
    hashed = kind in ("email", "telephone") if hashed is None else hashed in (True, "true", "1", 1)
    return {"recipient_identity": checked, "recipient_type": kind, "hashed": hashed}


def _identity(kind: str, identity: str) -> str | None:
    if kind == "email":
        return parse_email(identity)
    if kind == "telephone":
        digits = identity.strip()
        body = digits.removeprefix("+")
        return digits if body.isdigit() and 2 <= len(body) <= 15 else None
    url = parse_url(identity)
    if url is None:
        return None
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    # Badgr lower-cases the host of URL identities.
    return f"{scheme.lower()}://{host.lower()}{slash}{path}"


def _evidence(fields: Fields) -> Any:
    items = fields.items("evidence")
    if not isinstance(items, list):
        return items
    result = []
    for item in items:
        if not isinstance(item, dict):
            fields.error("evidence", "Invalid data.")
            return MISSING
        url, narrative = item.get("url"), item.get("narrative")
        if url in (None, "") and narrative in (None, ""):
            fields.error("evidence", "Either url or narrative is required")
            return MISSING
        if url not in (None, "") and (not isinstance(url, str) or parse_url(url) is None):
            fields.error("evidence", "Enter a valid URL.")
            return MISSING
        if narrative not in (None, "") and (not isinstance(narrative, str) or "![" in narrative):
            fields.error("evidence", "Images not supported in markdown")
            return MISSING
        result.append({"url": url or None, "narrative": narrative or None})
    return result


def _award_values(body: Any, *, create: bool) -> tuple[dict[str, Any], Fields]:
    fields = Fields(body)
    values: dict[str, Any] = {}
    recipient = _recipient(fields, required=create)
    if recipient is not MISSING:
        values.update(recipient)
    issued_on = fields.moment("issuedOn")
    if isinstance(issued_on, datetime):
        if issued_on > datetime.now(UTC):
            fields.error("issuedOn", "Only issuedOn dates in the past are acceptable.")
        elif issued_on.year < 1583:
            fields.error("issuedOn", "Only issuedOn dates after 1583 are acceptable.")
        values["issued_on"] = issued_on
    values["expires"] = fields.moment("expires")
    values["narrative"] = fields.markdown("narrative")
    evidence, extensions = _evidence(fields), fields.mapping("extensions")
    if evidence is not MISSING:
        values["evidence"] = json.dumps(evidence or [])
    if extensions is not MISSING:
        values["extensions"] = json.dumps(extensions or {})
    fields.boolean("notify", False)
    return {key: value for key, value in values.items() if value is not MISSING}, fields


_INSERT_AWARD: Final = insert(t.assertions)


def _insert_award(
    ctx: Ctx, connection: Connection, badgeclass: Row[Any], values: dict[str, Any]
) -> int:
    now = utcnow()
    values.setdefault("issued_on", now)
    row = {
        "entity_id": new_entity_id(),
        "badgeclass_id": badgeclass.id,
        "created_by": ctx.me.entity_id,
        "salt": secrets.token_hex(16),
        "acceptance": "Unaccepted",
        "revoked": False,
        "created_at": now,
        "evidence": "[]",
        "extensions": "{}",
        **values,
    }
    # The statement is built once; the values go as parameters (see host._queries).
    return insert_id(connection, _INSERT_AWARD, row)


def _refuse_duplicate(connection: Connection, bc_id: int, values: dict[str, Any]) -> None:
    existing = connection.scalar(
        select(func.count()).where(
            t.assertions.c.badgeclass_id == bc_id,
            t.assertions.c.recipient_identity == values["recipient_identity"],
            t.assertions.c.revoked.is_(False),
        )
    )
    if existing:
        raise bad_request(
            validation_errors=["A previous award of this badge already exists for this recipient."]
        )


def _award(ctx: Ctx, connection: Connection, badgeclass: Row[Any], body: Any) -> dict[str, Any]:
    values, fields = _award_values(body, create=True)
    allow_duplicates = fields.boolean("allowDuplicateAwards", True)
    fields.check()
    if not allow_duplicates:
        _refuse_duplicate(connection, badgeclass.id, values)
    award_id = _insert_award(ctx, connection, badgeclass, values)
    return assertion_v2(assertion_by_id(connection, award_id), ctx.origin)


def _award_page(ctx: Ctx, connection: Connection, condition: Any) -> Response:
    params = ctx.request.query_params
    query = assertion_query().where(condition)
    if not _on(params.get("include_revoked")):
        query = query.where(t.assertions.c.revoked.is_(False))
    if not _on(params.get("include_expired")):
        now = utcnow()
        query = query.where((t.assertions.c.expires.is_(None)) | (t.assertions.c.expires > now))
    recipients = [r.strip().lower() for r in params.getlist("recipient") if r.strip()]
    if recipients:
        query = query.where(t.assertions.c.recipient_identity.in_(recipients))
    order = (t.assertions.c.id,)  # creation order, without a sort (see _badgeclass_page)
    page, headers = paginate(connection, ctx.request, query, order)
    return envelope(
        [assertion_v2(row, ctx.origin) for row in page], request=ctx.request, headers=headers
    )


ListQuery = Annotated[list[str] | None, Query()]


@handles(BADGR, "badgeclass.assertions.list")
@on_loop
def badgeclass_assertions_list(
    ctx: Authed,
    badgeclass: str,
    num: Flags = None,
    cursor: Flags = None,
    recipient: ListQuery = None,
    include_expired: Flags = None,
    include_revoked: Flags = None,
) -> Response:
    """A badge class's awards; revoked and expired ones only when asked."""
    with ctx.tx() as connection:
        row = find_badgeclass(connection, badgeclass, ctx.me.id)
        return _award_page(ctx, connection, t.assertions.c.badgeclass_id == row.id)


@handles(BADGR, "badgeclass.assertions.create")
@on_loop
def badgeclass_assertions_create(ctx: Authed, badgeclass: str, body: BadgrBody) -> Response:
    """Award the badge class in the path (what Moodle calls); unknown keys are ignored."""
    with ctx.tx() as connection:
        row = find_badgeclass(connection, badgeclass, ctx.me.id)
        if "badgeclass" in as_object(body):
            raise bad_request(validation_errors=[MULTIPLE_IDS])
        result = _award(ctx, connection, row, body)
    return envelope([result], 201, request=ctx.request)


@handles(BADGR, "badgeclass.issue")
@on_loop
def badgeclass_issue(ctx: Authed, badgeclass: str, body: BadgrBody) -> Response:
    """Award a badge class to several recipients at once: all of them, or none."""
    fields = Fields(body)
    items = fields.items("assertions")
    if not isinstance(items, list) or not items:
        fields.errors.setdefault("assertions", ["This field is required."])
        fields.check()
    assert isinstance(items, list)
    with ctx.tx() as connection:
        row = find_badgeclass(connection, badgeclass, ctx.me.id)
        checked = [_award_values(item, create=True) for item in items]
        if any(f.errors for _, f in checked):
            raise _batch_errors(checked)
        ids = [_insert_award(ctx, connection, row, values) for values, _ in checked]
        rows = connection.execute(assertion_query().where(t.assertions.c.id.in_(ids))).all()
    rows = sorted(rows, key=lambda r: ids.index(r.id))
    return envelope([assertion_v2(r, ctx.origin) for r in rows], 201, request=ctx.request)


def _batch_errors(checked: Sequence[tuple[dict[str, Any], Fields]]) -> BadgrError:
    # Badgr's batch endpoint lists field errors per submitted item.
    error = bad_request()
    error.field_errors = [f.errors for _, f in checked]
    return error


@handles(BADGR, "issuer.assertions.list")
@on_loop
def issuer_assertions_list(
    ctx: Authed,
    issuer: str,
    num: Flags = None,
    cursor: Flags = None,
    recipient: ListQuery = None,
    include_expired: Flags = None,
    include_revoked: Flags = None,
) -> Response:
    """An issuer's awards."""
    with ctx.tx() as connection:
        row = find_issuer(connection, issuer, ctx.me.id)
        return _award_page(ctx, connection, t.issuers.c.id == row.id)


def _badgeclass_from_body(connection: Connection, issuer: Row[Any], body: Any) -> Row[Any]:
    data = as_object(body)
    given = [k for k in ("badgeclass", "badgeclassOpenBadgeId", "badgeclassName") if data.get(k)]
    if len(given) > 1:
        raise bad_request(validation_errors=[MULTIPLE_IDS])
    if not given:
        raise bad_request({"badgeclass": ["This field is required"]})
    value = data[given[0]]
    query = badgeclass_query().where(t.badgeclasses.c.issuer_id == issuer.id)
    if given[0] == "badgeclassName":
        rows = connection.execute(query.where(t.badgeclasses.c.name == str(value))).all()
        if len(rows) != 1:
            message = (
                f"No matching BadgeClass found with name {value}"
                if not rows
                else f"Could not award; {len(rows)} BadgeClasses with name {value}"
            )
            raise bad_request(validation_errors=[message])
        return rows[0]
    eid = str(value).rstrip("/").rsplit("/", 1)[-1] if given[0] != "badgeclass" else str(value)
    row = connection.execute(query.where(t.badgeclasses.c.entity_id == eid)).one_or_none()
    if row is None:
        raise bad_request({"badgeclass": ["Could not find matching badgeclass for this issuer."]})
    return row


@handles(BADGR, "issuer.assertions.create")
@on_loop
def issuer_assertions_create(ctx: Authed, issuer: str, body: BadgrBody) -> Response:
    """Award a badge class of the issuer named by id, public URL or exact name."""
    with ctx.tx() as connection:
        row = find_issuer(connection, issuer, ctx.me.id)
        badgeclass = _badgeclass_from_body(connection, row, body)
        result = _award(ctx, connection, badgeclass, body)
    return envelope([result], 201, request=ctx.request)


@handles(BADGR, "assertions.get")
@on_loop
def assertions_get(ctx: Authed, assertion: str) -> Response:
    """One award."""
    with ctx.tx() as connection:
        row = find_assertion(connection, assertion, ctx.me.id)
    return envelope([assertion_v2(row, ctx.origin)], request=ctx.request)


@handles(BADGR, "assertions.update")
@on_loop
def assertions_update(ctx: Authed, assertion: str, body: BadgrBody) -> Response:
    """Update an award: recipient, dates, narrative, evidence, extensions; nothing required.

    ``expand`` is ignored, as Badgr ignores it here.
    """
    with ctx.tx() as connection:
        row = find_assertion(connection, assertion, ctx.me.id)
        values, fields = _award_values(body, create=False)
        fields.check()
        if values:
            connection.execute(
                update(t.assertions).where(t.assertions.c.id == row.id).values(**values)
            )
        row = assertion_by_id(connection, row.id)
    return envelope([assertion_v2(row, ctx.origin)], request=ctx.request)


def _revoke(connection: Connection, row: Row[Any], reason: str) -> None:
    connection.execute(
        update(t.assertions)
        .where(t.assertions.c.id == row.id)
        .values(revoked=True, revocation_reason=reason)
    )


@handles(BADGR, "assertions.revoke")
@on_loop
def assertions_revoke(ctx: Authed, assertion: str, body: BadgrBody) -> Response:
    """Revoke an award; the reason travels in the DELETE body."""
    data = as_object(body)
    reason = data.get("revocation_reason")
    with ctx.tx() as connection:
        row = find_assertion(connection, assertion, ctx.me.id)
        if not isinstance(reason, str) or not reason.strip():
            raise bad_request({"revocation_reason": "This field is required"})
        if row.revoked:
            raise bad_request(validation_errors=["Assertion is already revoked"])
        _revoke(connection, row, reason.strip())
        row = assertion_by_id(connection, row.id)
    return envelope([assertion_v2(row, ctx.origin)], request=ctx.request)


def _revoke_one(ctx: Ctx, connection: Connection, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("entityId"), str):
        return {"revoked": False, "reason": "entityId is required"}
    eid, reason = item["entityId"], item.get("revocationReason")
    if not isinstance(reason, str) or not reason.strip():
        return {"revoked": False, "entityId": eid, "reason": "revocationReason is required"}
    result = {"revoked": False, "entityId": eid, "revocationReason": reason}
    row = connection.execute(
        assertion_query().where(t.assertions.c.entity_id == eid, t.issuers.c.owner_id == ctx.me.id)
    ).one_or_none()
    if row is None:
        return result | {"reason": "permission denied or object not found"}
    if row.revoked:
        return result | {"reason": "['Assertion is already revoked']"}
    _revoke(connection, row, reason.strip())
    return result | {"revoked": True}


@handles(BADGR, "assertions.revoke_many")
@on_loop
def assertions_revoke_many(ctx: Authed, body: BadgrBody) -> Response:
    """Revoke several awards; one result per item, in order, always 200.

    Badgr answers an object body with a 500; this host answers 400.
    """
    if not isinstance(body, list):
        raise bad_request(validation_errors=["Expected a list of items."])
    with ctx.tx() as connection:
        result = [_revoke_one(ctx, connection, item) for item in body]
    return envelope(result, request=ctx.request, description="revoked badges")
