"""Handlers by endpoint name: the app binds each protocol table row to the one named here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["BADGECONNECT", "BADGR", "DISPLAYER", "OB3API", "handles"]

F = TypeVar("F", bound=Callable[..., Any])

BADGR: dict[str, Callable[..., Any]] = {}
"""Handlers of ``openbackpack.protocols.badgr.ROUTES``, by endpoint name."""
DISPLAYER: dict[str, Callable[..., Any]] = {}
"""Handlers of ``openbackpack.protocols.displayer.ROUTES``, by endpoint name."""
BADGECONNECT: dict[str, Callable[..., Any]] = {}
"""Handlers of ``openbackpack.protocols.badgeconnect.ROUTES``, by endpoint name."""
OB3API: dict[str, Callable[..., Any]] = {}
"""Handlers of ``openbackpack.protocols.ob3api.ROUTES``, by endpoint name."""


def handles(table: dict[str, Callable[..., Any]], name: str) -> Callable[[F], F]:
    """Register the decorated function as the handler of endpoint ``name``."""

    def register(function: F) -> F:
        if name in table:
            raise RuntimeError(f"two handlers for {name}")
        table[name] = function
        return function

    return register
