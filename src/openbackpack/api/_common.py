"""What the blocking and the async classes share: token locks and answer narrowing."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Protocol, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread

from openbackpack._exceptions import (
    APIStatusError,
    AuthenticationError,
    InvalidResponseError,
)
from openbackpack.api._core import (
    check_status,
)
from openbackpack.models import (
    Collection,
)
from openbackpack.protocols import action_words
from openbackpack.store import Store

_T = TypeVar("_T")

# One lock per (database, provider, account), so that concurrent callers renew a token once.
_sync_locks: dict[Hashable, threading.Lock] = {}
# anyio locks belong to an event loop: one table per running loop, dropped with the loop.
_async_locks: weakref.WeakKeyDictionary[Any, dict[Hashable, anyio.Lock]] = (
    weakref.WeakKeyDictionary()
)
_locks_guard = threading.Lock()


class Keyed(Protocol):
    """Whatever holds the tokens of one (provider, account) in one store."""

    @property
    def store(self) -> Store: ...  # pragma: no cover - a protocol

    @property
    def key(self) -> tuple[int, int]: ...  # pragma: no cover - a protocol


def _lock_key(core: Keyed) -> Hashable:
    return (core.store.engine.url.render_as_string(hide_password=True), *core.key)


def sync_lock(core: Keyed) -> threading.Lock:
    with _locks_guard:
        return _sync_locks.setdefault(_lock_key(core), threading.Lock())


def async_lock(core: Keyed) -> anyio.Lock:
    loop = anyio.lowlevel.current_token().native_token
    with _locks_guard:
        table = _async_locks.setdefault(loop, {})
        return table.setdefault(_lock_key(core), anyio.Lock())


def first_collection(collections: list[Collection], action: str) -> Collection:
    if not collections:
        raise InvalidResponseError(
            f"could not {action_words(action)}: the backpack returned no collection", action=action
        )
    return collections[0]


def only(value: Any, kind: type[_T]) -> _T:
    # interpret() returns what the row promises; this narrows it for the type checker.
    if not isinstance(value, kind):  # pragma: no cover - a mapping row that lies
        raise InvalidResponseError(f"expected a {kind.__name__}, got {type(value).__name__}")
    return value


def as_login_error(error: APIStatusError) -> APIStatusError:
    # The Displayer answers an unknown email with 404 and a bad one with 400: for a login,
    # both mean "these credentials do not work", which is what callers test for.
    if isinstance(error, AuthenticationError) or error.status_code not in (400, 404):
        return error
    description = error.description or check_status("missing") or ""
    return AuthenticationError(
        f"user: the backpack refused the login: {description}",
        status_code=error.status_code,
        action=error.action,
        description=description,
        body=error.body,
    )


async def in_thread(fn: Callable[[], _T]) -> _T:
    # The store is synchronous (SQLAlchemy Core); keep the event loop free while it works.
    return await anyio.to_thread.run_sync(fn)
