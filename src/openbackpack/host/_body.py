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

__all__ = ["BodyError", "Upload", "read_body"]

_FORM: Final = "application/x-www-form-urlencoded"
_MULTIPART: Final = "multipart/form-data"


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
    """Return the decoded body: a JSON value, or a dict from form fields; ``{}`` when empty."""
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
        return json.loads(_text(raw))
    except ValueError as exc:
        raise BodyError(400, f"JSON parse error - {exc}") from None


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
