"""Badgr's opt-in cursor pagination: only with ``?num=N``, newest first, ``Link`` header.

A page is read with ``LIMIT``/``OFFSET`` in the database, so a page of a list of a hundred
thousand awards costs the page, not the list.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, Select
from sqlalchemy.sql.elements import ColumnElement
from starlette.requests import Request

from openbackpack.host._wire import not_found

__all__ = ["paginate"]

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


def paginate(
    connection: Connection,
    request: Request,
    query: Select[Any],
    order: Sequence[ColumnElement[Any]],
) -> tuple[Sequence[Row[Any]], dict[str, str]]:
    """Run ``query`` for the requested page, and return its rows and the ``Link`` header.

    Without ``num`` every row comes back, oldest first (by ``order``); with it, one page,
    newest first.
    """
    size = _page_size(request)
    if size is None:
        return connection.execute(query.order_by(*order)).all(), {}
    cursor = request.query_params.get("cursor")
    offset = _decode(cursor) if cursor else 0
    newest_first = query.order_by(*(column.desc() for column in order))
    # One row more than the page tells whether a next page exists, without counting.
    rows = connection.execute(newest_first.limit(size + 1).offset(offset)).all()
    links = []
    if len(rows) > size:
        links.append(f'<{_link(request, offset + size)}>; rel="next"')
    if offset > 0:
        links.append(f'<{_link(request, max(0, offset - size))}>; rel="prev"')
    return rows[:size], ({"Link": ", ".join(links)} if links else {})
