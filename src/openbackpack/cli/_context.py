"""What the global options chose, and opening the store from it."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from openbackpack.store import Store

__all__ = ["Context", "open_store"]


@dataclass(frozen=True)
class Context:
    """The global options, handed to every command through typer's context."""

    db_url: str


def context_of(ctx: typer.Context) -> Context:
    """Return the global options of the running command."""
    obj = ctx.find_root().obj
    assert isinstance(obj, Context)
    return obj


def open_store(ctx: typer.Context, *, migrate: bool | None = None) -> Store:
    """Open the store the global ``--db`` option chose."""
    return Store.open(context_of(ctx).db_url, migrate=migrate)
