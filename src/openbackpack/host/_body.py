"""Reading request bodies as Badgr does: JSON, form or multipart, with a size cap.

Form and multipart fields use DRF's dot notation for nested objects
(``recipient.identity=...``) and repeat a key for a list. Uploaded files become
:class:`Upload` values. Every failure is a :class:`BodyError`, which each protocol turns
into its own error shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.datastructures import UploadFile
from starlette.requests import Request

__all__ = ["MAX_DEPTH", "BodyError", "Upload", "loads", "read_body"]

_FORM: Final = "application/x-www-form-urlencoded"
_MULTIPART: Final = "multipart/form-data"
MAX_DEPTH: Final = 32
"""The deepest nesting accepted in a JSON document or a dotted form key.

No document of these protocols nests past a handful of levels; the cap keeps every later
recursive walk (validation, NUL checks, serialisation) far from Python's recursion limit.
"""


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart body."""

    filename: str
    content_type: str
    data: bytes


class BodyError(Exception):
    """The body cannot be read: too large, malformed, or of an unsupported type."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_body(request: Request, max_bytes: int) -> Any:
    """Return the decoded body: a JSON value, or a dict from form fields; ``{}`` when empty.

    Text containing NUL characters is refused here, once for every protocol: PostgreSQL
    cannot store them, and no field of these APIs needs one.
    """
    body = await _decode(request, max_bytes)
    if _has_nul(body):
        raise BodyError(400, "Null characters are not allowed.")
    return body


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


async def _decode(request: Request, max_bytes: int) -> Any:
    raw = await _read_capped(request, max_bytes)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == _MULTIPART:
        return await _multipart(request, max_bytes)
    if not raw.strip():
        return {}
    if media_type in ("", "application/json") or media_type.endswith("+json"):
        return _json(raw)
    if media_type == _FORM:
        return _nest(parse_qsl(_text(raw), keep_blank_values=True))
    raise BodyError(415, f'Unsupported media type "{media_type}" in request.')


async def _read_capped(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyError(413, f"Request body larger than {max_bytes} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BodyError(413, f"Request body larger than {max_bytes} bytes.")
        chunks.append(chunk)
    body = b"".join(chunks)
    # Later readers (request.form()) find the body here instead of a drained stream.
    request._body = body
    return body


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(400, "Request body is not UTF-8.") from None


def _json(raw: bytes) -> Any:
    try:
        return loads(_text(raw))
    except ValueError as exc:
        raise BodyError(400, f"JSON parse error - {exc}") from None


def loads(text: str | bytes) -> Any:
    """``json.loads``, refusing documents nested deeper than :data:`MAX_DEPTH`.

    Raises:
        ValueError: not JSON, or nested too deeply (json's own RecursionError included).
    """
    try:
        document = json.loads(text)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    if _depth_exceeds(document, MAX_DEPTH):
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return document


def _depth_exceeds(value: Any, limit: int) -> bool:
    # Iterative on purpose: a recursive walk is what fails on hostile input.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in item)
    return False


async def _multipart(request: Request, max_bytes: int) -> dict[str, Any]:
    try:
        form = await request.form(max_files=16, max_fields=256, max_part_size=max_bytes)
    except Exception as exc:  # python-multipart raises several unrelated types
        raise BodyError(400, f"Multipart form parse error - {exc}") from None
    pairs: list[tuple[str, Any]] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            data = await value.read()
            pairs.append((key, Upload(value.filename or "", value.content_type or "", data)))
        else:
            pairs.append((key, value))
    await form.close()
    return _nest(pairs)


def _nest(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build nested dicts from dotted keys; a repeated key becomes a list."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key.count(".") >= MAX_DEPTH:
            raise BodyError(400, f"Field name nested deeper than {MAX_DEPTH} levels.")
        *parents, leaf = key.split(".")
        target = result
        for part in parents:
            child = target.get(part)
            if not isinstance(child, dict):
                child = {}
                target[part] = child
            target = child
        if leaf in target:
            existing = target[leaf]
            target[leaf] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            target[leaf] = value
    return result
