"""``POST /v2/backpack/import``: find the award, verify it, and put it in the backpack.

Hosted verification as Open Badges 2.0 asks: only the document fetched from the assertion's
``id`` is trusted, not the copy that was posted or baked. An award hosted by this very host
is recognised by its public URL and accepted in place, without a fetch. Failures are Badgr's
flat lists (``[NAME, description, NAME, "False", detail, "ERROR"]``); a badge already in the
backpack is ``DUPLICATE_BADGE``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import Connection, Row, insert, select, update

from openbackpack.host import _schema as t
from openbackpack.host._body import loads
from openbackpack.host._db import insert_id
from openbackpack.host._fetch import Fetched, FetchError
from openbackpack.host._images import ImageError, parse_image_input, sniff, unbake
from openbackpack.host._queries import assertion_query
from openbackpack.host._state import Ctx
from openbackpack.host._validate import parse_datetime
from openbackpack.host._wire import BadgrError, bad_request, new_entity_id
from openbackpack.store._types import utcnow

__all__ = ["DUPLICATE", "import_badge", "recipient_matches"]

DUPLICATE: Final = {
    "name": "DUPLICATE_BADGE",
    "description": "You already have this badge in your backpack",
}
_MAX_URL: Final = 2048
_ERRORS: Final = {
    "FETCH_HTTP_NODE": "Unable to reach URL",
    "VERIFY_RECIPIENT_IDENTIFIER": "The recipient does not match any of your verified emails",
    "VERIFY_SIGNATURE": "Could not verify signature",
    "ASSERTION_REVOKED": "This assertion has been revoked",
    "INVALID_BADGE": "The badge is not a valid Open Badges 2.0 document",
    "UNABLE_TO_VERIFY": "Unable to verify the assertion",
    "ASSERTION_NOT_FOUND": "Unable to find an assertion",
}


def _failure(name: str, detail: str) -> BadgrError:
    return bad_request(validation_errors=[name, _ERRORS[name], name, "False", detail, "ERROR"])


def _has_type(document: Mapping[str, Any], name: str) -> bool:
    kind = document.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return name in kinds or (name == "Issuer" and "Profile" in kinds)


def recipient_matches(recipient: Any, emails: Sequence[str]) -> str | None:
    """The address among ``emails`` that an OB 2.0 IdentityObject names, or ``None``.

    Hashed identities are ``sha256$`` or ``md5$`` over identity + salt; the hex is compared
    without regard to case, and each address is tried as stored (lower case).
    """
    if not isinstance(recipient, Mapping) or recipient.get("type", "email") != "email":
        return None
    identity, salt = recipient.get("identity"), recipient.get("salt") or ""
    if not isinstance(identity, str) or not isinstance(salt, str):
        return None
    hashed = recipient.get("hashed") in (True, "true")
    for email in emails:
        if not hashed and identity.strip().lower() == email:
            return email
        algorithm, _, digest = identity.partition("$")
        if hashed and algorithm.lower() in ("sha256", "md5"):
            expected = hashlib.new(algorithm.lower(), (email + salt).encode()).hexdigest()
            if hmac.compare_digest(expected, digest.strip().lower()):
                return email
    return None


def _fetch(ctx: Ctx, url: str, what: str) -> Fetched:
    try:
        return ctx.state.fetcher.get(url)
    except FetchError as exc:
        if exc.status == 410 and what == "assertion":
            raise _failure("ASSERTION_REVOKED", f"{url} answered 410 Gone") from None
        if exc.status == 404:
            raise _failure("ASSERTION_NOT_FOUND", f"Unable to find {what} at {url}") from None
        raise _failure("FETCH_HTTP_NODE", exc.reason) from None


def _json_of(fetched: Fetched, what: str) -> dict[str, Any]:
    try:
        document = loads(fetched.content)
    except (ValueError, UnicodeDecodeError):
        document = None
    if not isinstance(document, dict):
        raise _failure(
            "INVALID_BADGE", f"{fetched.url} did not answer a JSON object for the {what}"
        )
    return document


def _fetch_json(ctx: Ctx, url: str, what: str) -> dict[str, Any]:
    return _json_of(_fetch(ctx, url, what), what)


def _local_eid(ctx: Ctx, url: str) -> str | None:
    prefix = f"{ctx.origin}/public/assertions/"
    if not url.startswith(prefix):
        return None
    eid = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return eid.removesuffix(".json") or None


def _text_from_image(value: Any) -> tuple[str, bytes, str]:
    try:
        image = parse_image_input(value)
    except ImageError as exc:
        raise bad_request({"image": [exc.message]}) from None
    if image is None:
        raise bad_request({"image": ["Valid image file or data URI required."]})
    try:
        text = unbake(image.data)
    except ImageError as exc:
        raise _failure("INVALID_BADGE", f"the image cannot be read: {exc.message}") from None
    if not text:
        raise _failure("INVALID_BADGE", "the image carries no baked badge")
    return text.strip(), image.data, image.media_type


def _hosted_url(text_or_document: Any) -> str:
    """The URL to fetch for a baked text or a posted assertion object."""
    document = text_or_document
    if isinstance(text_or_document, str):
        if text_or_document.startswith(("http://", "https://")):
            return text_or_document
        if text_or_document.count(".") == 2 and not text_or_document.startswith("{"):
            raise _failure("VERIFY_SIGNATURE", "signed badges are not supported by this host")
        try:
            document = loads(text_or_document)
        except ValueError:
            raise _failure("INVALID_BADGE", "the baked text is not JSON") from None
    if not isinstance(document, dict):
        raise _failure("INVALID_BADGE", "the assertion is not a JSON object")
    url = document.get("id")
    verification = document.get("verification") or document.get("verify") or {}
    if isinstance(verification, dict) and verification.get("url") and not _is_http(url):
        url = verification["url"]
    if not _is_http(url):
        raise _failure("UNABLE_TO_VERIFY", "a hosted assertion needs an http(s) id to fetch")
    return str(url)


def _is_http(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def import_badge(ctx: Ctx, connection: Connection, kind: str, value: Any) -> tuple[Row[Any], bool]:
    """Import one award for the caller; returns the backpack row and whether it is imported."""
    image: tuple[bytes, str] | None = None
    if kind == "url":
        if not _is_http(value):
            raise bad_request({"url": ["Enter a valid URL."]})
        if len(value) > _MAX_URL:
            raise bad_request(
                {"url": [f"Ensure this field has no more than {_MAX_URL} characters."]}
            )
        url = str(value)
    elif kind == "image":
        text, data, media_type = _text_from_image(value)
        url, image = _hosted_url(text), (data, media_type)
    else:
        url = _hosted_url(value)
    eid = _local_eid(ctx, url)
    if eid is not None:
        return _accept_local(ctx, connection, eid), False
    return _import_remote(ctx, connection, url, image), True


def _accept_local(ctx: Ctx, connection: Connection, eid: str) -> Row[Any]:
    row = connection.execute(assertion_query().where(t.assertions.c.entity_id == eid)).one_or_none()
    if row is None:
        raise _failure("ASSERTION_NOT_FOUND", f"no assertion {eid} on this host")
    if row.recipient_type != "email" or row.recipient_identity not in ctx.me.verified_emails:
        raise _failure(
            "VERIFY_RECIPIENT_IDENTIFIER", f"assertion {eid} was awarded to someone else"
        )
    if row.revoked:
        raise _failure("ASSERTION_REVOKED", f"assertion {eid} is revoked")
    if row.acceptance == "Accepted":
        raise bad_request(validation_errors=[DUPLICATE])
    connection.execute(
        update(t.assertions).where(t.assertions.c.id == row.id).values(acceptance="Accepted")
    )
    return connection.execute(assertion_query().where(t.assertions.c.id == row.id)).one()


def _already_imported(connection: Connection, user_id: int, source: str) -> bool:
    # One indexed lookup (the unique (user_id, source_url) constraint), not a read of every
    # badge the user holds: that made each import slower as the backpack filled.
    found = connection.execute(
        select(t.imports.c.id)
        .where(t.imports.c.user_id == user_id, t.imports.c.source_url == source)
        .limit(1)
    ).first()
    return found is not None


def _resolve(ctx: Ctx, document: dict[str, Any], key: str, what: str) -> dict[str, Any]:
    value = document.get(key)
    if isinstance(value, dict):
        return value
    if _is_http(value):
        return _fetch_json(ctx, str(value), what)
    raise _failure("INVALID_BADGE", f"the {what} is neither a URL nor an object")


def _import_remote(
    ctx: Ctx, connection: Connection, url: str, image: tuple[bytes, str] | None
) -> Row[Any]:
    fetched = _fetch(ctx, url, "assertion")
    media_type = sniff(fetched.content) if image is None else None
    if media_type is not None:
        # A URL of a baked image: the badge inside names the hosted assertion to trust.
        text = unbake(fetched.content)
        if not text:
            raise _failure("INVALID_BADGE", f"the image at {url} carries no baked badge")
        url, image = _hosted_url(text.strip()), (fetched.content, media_type)
        if _local_eid(ctx, url) is not None:
            raise _failure("UNABLE_TO_VERIFY", "this host's own badges are imported by their URL")
        fetched = _fetch(ctx, url, "assertion")
    assertion = _json_of(fetched, "assertion")
    if assertion.get("revoked") in (True, "true"):
        raise _failure("ASSERTION_REVOKED", f"{url} is revoked")
    if not _has_type(assertion, "Assertion"):
        raise _failure("INVALID_BADGE", f"{url} is not an Assertion")
    badge = _resolve(ctx, assertion, "badge", "badgeclass")
    issuer = _resolve(ctx, badge, "issuer", "issuer")
    if not _has_type(badge, "BadgeClass") or not _has_type(issuer, "Issuer"):
        raise _failure("INVALID_BADGE", "the badge class or its issuer has the wrong type")
    email = recipient_matches(assertion.get("recipient"), ctx.me.verified_emails)
    if email is None:
        raise _failure(
            "VERIFY_RECIPIENT_IDENTIFIER",
            f"{url} is not awarded to any of your verified emails",
        )
    source = str(assertion.get("id") or url)
    if len(source) > _MAX_URL:
        raise _failure("INVALID_BADGE", f"the assertion id is longer than {_MAX_URL} characters")
    if _already_imported(connection, ctx.me.id, source):
        raise bad_request(validation_errors=[DUPLICATE])
    item_id = insert_id(
        connection,
        insert(t.imports).values(
            entity_id=new_entity_id(),
            user_id=ctx.me.id,
            source_url=source,
            badgeclass_eid=new_entity_id(),
            issuer_eid=new_entity_id(),
            assertion_json=json.dumps(assertion),
            badgeclass_json=json.dumps(badge),
            issuer_json=json.dumps(issuer),
            recipient_identity=email,
            # Badgr stores a fresh salt, so the backpack's hash differs from the original's.
            salt=secrets.token_hex(16),
            issued_on=parse_datetime(assertion.get("issuedOn")),
            expires=parse_datetime(assertion.get("expires")),
            image=image[0] if image else None,
            image_type=image[1] if image else None,
            acceptance="Accepted",
            created_at=utcnow(),
        ),
    )
    return connection.execute(select(t.imports).where(t.imports.c.id == item_id)).one()
