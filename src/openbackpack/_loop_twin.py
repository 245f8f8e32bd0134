"""An ``async def`` twin of a plain function, so that an ASGI framework runs it on the loop.

FastAPI runs a plain (``def``) handler or dependency in a worker thread, and awaits an
``async def`` one on the event loop. For a handler that is a few local statements and a
rendered answer, the hand-off to a thread and back costs more CPU than the work: the
reference host and the issuer app register such handlers through :func:`loop_twin`.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

__all__ = ["loop_twin"]

P = ParamSpec("P")
T = TypeVar("T")


def loop_twin(function: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """An ``async def`` twin of a plain function, so FastAPI calls it on the event loop.

    The twin carries the function's signature with its annotations resolved (modules with
    postponed annotations would otherwise be resolved against the twin's module), its name
    and its docstring, so the OpenAPI document does not change.
    """
    signature = inspect.signature(function, eval_str=True)

    async def on_the_loop(*args: P.args, **kwargs: P.kwargs) -> T:
        return function(*args, **kwargs)

    on_the_loop.__signature__ = signature  # type: ignore[attr-defined]
    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(on_the_loop, name, getattr(function, name))
    return on_the_loop
