"""The root command, its global options and the ``db`` and ``demo`` commands."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import Console

from openbackpack import __version__
from openbackpack._exceptions import BackpackError
from openbackpack._settings import DB_ENV, default_database_url, parse_database_url
from openbackpack.cli._host import host_app
from openbackpack.store import SecretBox, Store

__all__ = ["app", "main"]

app = typer.Typer(
    name="openbackpack",
    help="Talk to Open Badges backpacks, and run a reference backpack host.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Create, migrate and inspect the store.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(host_app, name="host")

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False)


@dataclass(frozen=True)
class Context:
    """What the global options chose, handed to every command."""

    db_url: str

    def open_store(self, *, migrate: bool | None = None) -> Store:
        """Open the chosen store."""
        return Store.open(self.db_url, migrate=migrate)


def _version(value: bool) -> None:
    if value:
        out.print(f"openbackpack {__version__}")
        raise typer.Exit


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar=DB_ENV,
            help="Store URL: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB.",
            show_default="an SQLite file in the user data directory",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Talk to Open Badges backpacks, and run a reference backpack host."""
    ctx.obj = Context(db_url=db or default_database_url())


def _context(ctx: typer.Context) -> Context:
    obj = ctx.find_root().obj
    assert isinstance(obj, Context)
    return obj


def _redacted(url: str) -> str:
    return parse_database_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the store if needed and apply every pending migration."""
    context = _context(ctx)
    with context.open_store(migrate=True):
        out.print(f"store {_redacted(context.db_url)} is up to date")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Print which store is configured and check that its schema is current."""
    context = _context(ctx)
    with context.open_store():
        out.print(f"store {_redacted(context.db_url)}: schema current")


@db_app.command("new-key")
def db_new_key() -> None:
    """Print a new random secret key (for OPENBACKPACK_SECRET_KEY)."""
    out.print(SecretBox.generate_key())


@app.command()
def demo(ctx: typer.Context) -> None:
    """Run the whole job end to end on the embedded default store."""
    context = _context(ctx)
    with context.open_store() as store, store.transaction() as tx:
        providers = tx.providers.list()
    out.print(f"store: {_redacted(context.db_url)}")
    out.print(f"site backpacks configured: {len(providers)}")


def main() -> None:
    """Run the command line, turning deliberate errors into one line and exit code 1."""
    try:
        app()
    except BackpackError as exc:
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(1)
