"""Turning HTTP answers into typed results or typed errors, without any I/O.

The client hands over the status, headers and raw body; these functions decide. JSON is
decoded whatever the Content-Type says (Badgr sends JSON as ``text/html`` on some errors), an
error status always becomes an exception from the tree in ``openbackpack._exceptions``, and a
success whose body does not match the protocol is an :class:`InvalidResponseError`, never a crash
(Moodle 4.1 died here, W3).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from pydantic import ValidationError

from openbackpack._exceptions import (
    APIStatusError,
    AuthenticationError,
    ConflictError,
    DuplicateBadgeError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RemoteValidationError,
    ServerError,
)
from openbackpack.models import (
    Collection,
    DisplayerBadge,
    DisplayerGroup,
    DisplayerUser,
    RemoteAssertion,
    RemoteBadgeClass,
    RemoteIssuer,
    TokenGrant,
)
from openbackpack.models._base import WireModel
from openbackpack.protocols._bodies import OB2_CONTEXT
from openbackpack.protocols._endpoint import Shape
from openbackpack.protocols._mappings import Mapping as ActionMapping
from openbackpack.protocols._mappings import ResultKind
from openbackpack.protocols._messages import action_words, failure_message, reasons_text
from openbackpack.protocols._redact import redact, redact_data

__all__ = [
    "assertion_from_badgr",
    "badgeclass_from_badgr",
    "collection_from_badgr",
    "decode_json",
    "error_from_response",
    "header_value",
    "interpret",
    "issuer_from_badgr",
    "json_object",
    "next_page_url",
    "parse_retry_after",
    "retry_after_from",
]

_MAX_TEXT = 300
# One entry of a Link header: the URL between angle brackets, then its ;-parameters (a
# comma inside the URL does not split it).
_LINK_ENTRY = re.compile(r"<([^>]*)>([^<]*)")
_LINK_REL = re.compile(r';\s*rel\s*=\s*("[^"]*"|[^;,\s]*)', re.IGNORECASE)
_DUPLICATE = "DUPLICATE_BADGE"


def decode_json(content: bytes) -> Any:
    """Decode a body as JSON; return ``None`` when it is empty or not JSON at all."""
    if not content.strip():
        return None
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None


def json_object(content: bytes, action: str) -> Mapping[str, Any]:
    """Decode a body that must be a JSON object; raise :class:`InvalidResponseError` otherwise."""
    body = decode_json(content)
    if not isinstance(body, Mapping):
        raise InvalidResponseError(
            f"could not {action_words(action)}: the answer is not a JSON object", action=action
        )
    return body


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header's value whatever its case (a plain dict is case-sensitive), or None."""
    return _header(headers, name)


_HTML_START = re.compile(rb"^\s*<(?:!doctype\s+html|html|head|body|title|h1|p)\b", re.IGNORECASE)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def _text(content: bytes) -> str:
    """A short, credential-free text of a body for messages (an HTML page becomes its title)."""
    text = content.decode("utf-8", "replace")
    if _HTML_START.match(content):
        # A proxy's or framework's error page: its title says it all, its markup says nothing.
        title = _HTML_TITLE.search(text)
        text = title.group(1) if title else _HTML_TAG.sub(" ", text)
        text = "HTML page: " + html.unescape(_SPACE.sub(" ", text).strip())
    return redact(text.strip()[:_MAX_TEXT])


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Read a ``Retry-After`` header (seconds, or an HTTP date) as seconds from now."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    # httpx2.Headers is case-insensitive, a plain dict is not: look both ways.
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def retry_after_from(
    headers: Mapping[str, str] | None, content: bytes = b"", now: datetime | None = None
) -> float | None:
    """How long a 429/503 answer asks the client to wait, in seconds, or None if it does not say.

    ``Retry-After`` (seconds or an HTTP date) wins; otherwise Badgr's login throttle puts the
    wait in the body's ``expires`` (seconds), often under a ``text/html`` content type.
    """
    retry = parse_retry_after(_header(headers, "retry-after"), now)
    if retry is not None:
        return retry
    body = decode_json(content)
    if isinstance(body, Mapping):
        expires = body.get("expires")
        if isinstance(expires, int | float) and not isinstance(expires, bool) and expires >= 0:
            return float(expires)
    return None


def next_page_url(headers: Mapping[str, str] | None) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header (Badgr's paged lists), or None.

    Entries are ``<URL>; rel="next"``, joined by commas; the URL is absolute.
    """
    for target, params in _LINK_ENTRY.findall(_header(headers, "link") or ""):
        relations = _LINK_REL.search(params)
        if relations and "next" in relations.group(1).strip('"').lower().split():
            return str(target).strip() or None
    return None


def _description(body: Any, content: bytes) -> str:
    return redact(_raw_description(body, content))


def _raw_description(body: Any, content: bytes) -> str:
    if isinstance(body, Mapping):
        status = body.get("status")
        if isinstance(status, Mapping):
            for key in ("description", "error", "statusText"):
                if status.get(key):
                    return _as_text(status[key])
        for key in ("error_description", "error", "detail", "message"):
            if body.get(key):
                return _as_text(body[key])
    return "" if body is not None else _text(content)


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_as_text(item) for item in value)
    if isinstance(value, Mapping):
        name, description = value.get("name"), value.get("description")
        if name and description:
            return f"{name}: {description}"
        return json.dumps(value, sort_keys=True)
    return str(value)


def _field_errors(value: Any, prefix: str = "") -> dict[str, list[str]]:
    # Badgr sends lists, bare strings, nested objects and (batch award) a list per item.
    errors: dict[str, list[str]] = {}
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{prefix}{key}"
            if isinstance(item, Mapping):
                errors.update(_field_errors(item, f"{name}."))
            elif isinstance(item, list):
                errors[name] = [_as_text(message) for message in item]
            elif item is not None:
                errors[name] = [str(item)]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            errors.update(_field_errors(item, f"{prefix}{index}."))
    elif isinstance(value, str) and value:
        errors[prefix.rstrip(".") or "detail"] = [value]
    return errors


def _validation_errors(value: Any) -> list[str]:
    if isinstance(value, list):
        return [_as_text(item) for item in value]
    return [_as_text(value)] if value else []


def _is_duplicate(body: Any) -> bool:
    if not isinstance(body, Mapping):
        return False
    items = body.get("validationErrors")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and item.get("name") == _DUPLICATE:
            return True
        if isinstance(item, str) and _DUPLICATE in item:
            return True
    return False


def error_from_response(
    status_code: int,
    content: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    action: str | None = None,
    token_endpoint: bool = False,
) -> APIStatusError:
    """Return the exception for an error answer; the one place a status becomes a class."""
    body = decode_json(content)
    description = _description(body, content)
    message = failure_message(action, status_code, reasons_text(description))
    common: dict[str, Any] = {
        "status_code": status_code,
        "action": action,
        "description": description,
        "body": redact_data(body) if body is not None else _text(content),
    }
    oauth_error = body.get("error") if isinstance(body, Mapping) else None
    if status_code == 401 or (token_endpoint and status_code == 400):
        message = failure_message(action, status_code, description, login_refused=True)
        return AuthenticationError(message, error=str(oauth_error or ""), **common)
    if status_code in (400, 422):
        kind = DuplicateBadgeError if _is_duplicate(body) else RemoteValidationError
        mapping = body if isinstance(body, Mapping) else {}
        field_errors = _field_errors(mapping.get("fieldErrors"))
        validation_errors = _validation_errors(mapping.get("validationErrors"))
        # Badgr says only "bad request"; the reasons are in these two keys.
        reasons = reasons_text(description, field_errors, validation_errors)
        return kind(
            failure_message(action, status_code, reasons),
            field_errors=field_errors,
            validation_errors=validation_errors,
            **common,
        )
    if status_code == 429:
        retry = retry_after_from(headers, content)
        return RateLimitError(message, retry_after=retry, **common)
    simple: dict[int, type[APIStatusError]] = {
        403: PermissionDeniedError,
        404: NotFoundError,
        409: ConflictError,
    }
    if status_code in simple:
        return simple[status_code](message, **common)
    if status_code >= 500:
        return ServerError(message, **common)
    return APIStatusError(message, **common)


def _entity(item: Mapping[str, Any], default_type: str) -> dict[str, Any]:
    data = dict(item)
    data["type"] = item.get("entityType") or item.get("type") or default_type
    data["id"] = item.get("entityId") or item.get("id")
    if item.get("openBadgeId"):
        data["hostedUrl"] = item["openBadgeId"]
    return data


def issuer_from_badgr(item: Mapping[str, Any]) -> RemoteIssuer:
    """Map a Badgr issuer (v2 entity or OB JSON) to :class:`RemoteIssuer`."""
    return RemoteIssuer.model_validate(_entity(item, "Issuer"))


def badgeclass_from_badgr(item: Mapping[str, Any]) -> RemoteBadgeClass:
    """Map a Badgr badge class (v2 entity, or the expanded OB JSON) to :class:`RemoteBadgeClass`.

    ``hosted_url`` is ``openBadgeId`` when present, else the OB ``id``; v2 ``alignments`` and
    OB ``alignment`` both land in ``alignment``; OB ``criteria`` splits into URL and narrative.
    """
    data = _entity(item, "BadgeClass")
    data.setdefault("hostedUrl", item.get("id"))
    criteria = item.get("criteria")
    if isinstance(criteria, Mapping):
        data.setdefault("criteriaUrl", criteria.get("id"))
        data.setdefault("criteriaNarrative", criteria.get("narrative"))
    elif isinstance(criteria, str):
        data.setdefault("criteriaUrl", criteria)
    data["alignment"] = item.get("alignment") or item.get("alignments") or []
    data["tags"] = item.get("tags") or []
    issuer = item.get("issuer")
    if isinstance(issuer, Mapping):
        data["issuer"] = issuer_from_badgr(issuer)
    image = item.get("image")
    if isinstance(image, Mapping):
        data["image"] = image.get("id")
    return RemoteBadgeClass.model_validate(data)


def assertion_from_badgr(item: Mapping[str, Any]) -> RemoteAssertion:
    """Map a Badgr assertion (issuer-side or backpack item) to :class:`RemoteAssertion`.

    The recipient is kept (Moodle dropped it, so backpack badges could never be checked, W20);
    ``@context`` is set to the OB 2.0 context as Moodle does.
    """
    data = _entity(item, "Assertion")
    badgeclass = item.get("badgeclass")
    if isinstance(badgeclass, Mapping):
        data["badgeclass"] = badgeclass_from_badgr(badgeclass)
    data["@context"] = OB2_CONTEXT
    return RemoteAssertion.model_validate(data)


def collection_from_badgr(item: Mapping[str, Any]) -> Collection:
    """Map a Badgr backpack collection to :class:`Collection`."""
    return Collection.model_validate(item)


_BADGR_MAPPERS = {
    ResultKind.ISSUER: issuer_from_badgr,
    ResultKind.BADGE_CLASS: badgeclass_from_badgr,
    ResultKind.ASSERTION: assertion_from_badgr,
    ResultKind.COLLECTION: collection_from_badgr,
}


def _envelope_items(body: Any, action: str) -> list[Mapping[str, Any]]:
    if not isinstance(body, Mapping) or "result" not in body:
        raise InvalidResponseError(
            f"could not {action_words(action)}: expected Badgr's {{status, result}} envelope",
            action=action,
        )
    status = body.get("status")
    if isinstance(status, Mapping) and status.get("success") is False:
        raise InvalidResponseError(
            f"could not {action_words(action)}: "
            f"the backpack reported failure: {_description(body, b'')}",
            action=action,
        )
    result = body["result"]
    items = result if isinstance(result, list) else [result]
    if not all(isinstance(item, Mapping) for item in items):
        raise InvalidResponseError(
            f"could not {action_words(action)}: result items are not objects", action=action
        )
    return items


def _document(body: Any, action: str, key: str | None = None) -> Any:
    if not isinstance(body, Mapping):
        raise InvalidResponseError(
            f"could not {action_words(action)}: expected a JSON object", action=action
        )
    if key is None:
        return body
    if key not in body or not isinstance(body[key], list):
        raise InvalidResponseError(
            f"could not {action_words(action)}: expected a {key!r} list", action=action
        )
    return body[key]


def _map_result(mapping: ActionMapping, body: Any) -> Any:
    action = mapping.action.value
    kind = mapping.result
    if kind is ResultKind.TOKEN:
        if not isinstance(body, Mapping) or not body.get("access_token"):
            raise InvalidResponseError(
                f"could not {action_words(action)}: no access_token in the answer", action=action
            )
        return TokenGrant.model_validate(body)
    if kind is ResultKind.DISPLAYER_USER:
        document = _document(body, action)
        if document.get("status") != "okay":
            raise InvalidResponseError(
                f"could not {action_words(action)}: status is not 'okay'", action=action
            )
        return DisplayerUser.model_validate(document)
    if kind is ResultKind.DISPLAYER_GROUPS:
        return [DisplayerGroup.model_validate(g) for g in _document(body, action, "groups")]
    if kind is ResultKind.DISPLAYER_BADGES:
        return [DisplayerBadge.model_validate(b) for b in _document(body, action, "badges")]
    mapped: list[WireModel] = [_BADGR_MAPPERS[kind](item) for item in _envelope_items(body, action)]
    if mapping.many:
        return mapped
    if not mapped:
        raise InvalidResponseError(
            f"could not {action_words(action)}: the result list is empty", action=action
        )
    return mapped[0]


def interpret(
    mapping: ActionMapping,
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
) -> Any:
    """Interpret one answer to a mapping row: its typed result, or raise a typed error.

    Returns a :class:`TokenGrant`, :class:`DisplayerUser`, a model or a list of models,
    depending on the row's :class:`ResultKind` and whether it is a list.
    """
    token_endpoint = mapping.endpoint.shape is Shape.TOKEN
    if not 200 <= status_code < 300:
        raise error_from_response(
            status_code,
            content,
            headers,
            action=mapping.action.value,
            token_endpoint=token_endpoint,
        )
    body = decode_json(content)
    if body is None:
        raise InvalidResponseError(
            f"{mapping.action.value}: HTTP {status_code} with a body that is not JSON",
            action=mapping.action.value,
            body=_text(content),
        )
    try:
        return _map_result(mapping, body)
    except ValidationError as exc:
        raise InvalidResponseError(
            f"{mapping.action.value}: the answer does not have the expected fields: "
            f"{exc.error_count()} problem(s), first: {exc.errors()[0]['msg']}",
            action=mapping.action.value,
            body=_text(content),
        ) from None
