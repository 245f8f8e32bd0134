"""Badgr's opt-in cursor pagination: only with ``?num=N``, newest first, ``Link`` header."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TypeVar

from starlette.requests import Request

from openbackpack.host._wire import not_found

__all__ = ["paginate"]

T = TypeVar("T")
_MAX_PAGE = 500


def _page_size(request: Request) -> int | None:
    num = request.query_params.get("num", "")
    try:
        return max(1, min(_MAX_PAGE, int(num)))
    except ValueError:
        return None  # a non-integer num means "no pagination", as in Badgr


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o={offset}".encode()).decode()


def _decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
        key, _, value = text.partition("=")
        if key != "o" or not value.isdigit():
            raise ValueError(cursor)
        return int(value)
    except (ValueError, binascii.Error, UnicodeError):
        raise not_found() from None


def _link(request: Request, offset: int) -> str:
    return str(request.url.include_query_params(cursor=_encode(offset)))


def paginate(request: Request, items: Sequence[T]) -> tuple[list[T], dict[str, str]]:
    """Return the requested page (or everything, oldest first) and the ``Link`` header."""
    size = _page_size(request)
    if size is None:
        return list(items), {}
    newest_first = list(reversed(items))
    cursor = request.query_params.get("cursor")
    offset = _decode(cursor) if cursor else 0
    page = newest_first[offset : offset + size]
    links = []
    if offset + size < len(newest_first):
        links.append(f'<{_link(request, offset + size)}>; rel="next"')
    if offset > 0:
        links.append(f'<{_link(request, max(0, offset - size))}>; rel="prev"')
    return page, ({"Link": ", ".join(links)} if links else {})
