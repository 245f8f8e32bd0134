"""Which handlers run on the event loop, and which in a worker thread.

FastAPI runs a plain (``def``) handler or dependency in a worker thread, and awaits an
``async def`` one on the event loop. The host's handlers are plain functions over a
synchronous database, so every request used to be handed to a thread twice (the token
check, then the handler) and back. For the requests that are a few local statements and a
rendered answer, those hand-offs cost more than the work: over 32 busy connections, a
created assertion cost the host twice the CPU it costs on the loop, and a read three times.

So a handler marked :func:`on_loop`, and the token checks, run on the loop. A handler stays
in a thread when it may wait on something other than the host's own database: an outbound
request (imports and Badge Connect assertions fetch the hosted badge; an Open Badges 3.0
upsert may fetch a status list or a DID document), or work that takes long on purpose
(password hashing at the token and consent endpoints), or decodes or bakes images. On
the loop such a wait would stall every connection, and a fetch from the host itself would
wait on itself.

A database lock held elsewhere holds the loop while a handler on it waits: up to the busy
timeout (SQLite) or the lock wait (PostgreSQL). No handler holds a write lock across a fetch.
One does across a password check: with the login throttle on (the default), a login on
SQLite takes the database's write lock before checking the password, so that concurrent
attempts queue, and a write on the loop waits for that check (about 25 ms of CPU).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Final, TypeVar

from openbackpack._loop_twin import loop_twin

__all__ = ["is_on_loop", "loop_dependency", "on_loop", "served_callable"]

F = TypeVar("F", bound=Callable[..., Any])

_MARK: Final = "__openbackpack_on_loop__"

loop_dependency = loop_twin
"""An ``async def`` twin of a plain function or dependency, so FastAPI calls it on the loop."""


def on_loop(handler: F) -> F:
    """Mark a plain handler to run on the event loop instead of a worker thread.

    Only for handlers whose work is local and short: statements on the host's database and
    a rendered answer, with no outbound request, no password hashing and no image work.
    """
    setattr(handler, _MARK, True)
    return handler


def is_on_loop(handler: Callable[..., Any]) -> bool:
    """Whether ``handler`` runs on the event loop (a coroutine, or marked :func:`on_loop`)."""
    return inspect.iscoroutinefunction(handler) or bool(getattr(handler, _MARK, False))


def served_callable(handler: Callable[..., Any]) -> Callable[..., Any]:
    """What the app registers for ``handler``: an awaitable twin if it is marked, else itself."""
    if getattr(handler, _MARK, False) and not inspect.iscoroutinefunction(handler):
        return loop_dependency(handler)
    return handler
