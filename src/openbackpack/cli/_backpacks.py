"""``openbackpack backpacks``: manage site backpacks."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from openbackpack._exceptions import InvalidInputError
from openbackpack.cli._context import open_store
from openbackpack.cli._output import out, print_json, print_table
from openbackpack.services import (
    SiteBackpack,
    add_backpack,
    check_backpack_connection,
    edit_backpack,
    list_backpacks,
    move_backpack,
    remove_backpack,
)
from openbackpack.store import Store

__all__ = ["backpacks_app"]

backpacks_app = typer.Typer(help="Manage the site's backpacks (providers).", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
RateOption = Annotated[
    float | None,
    typer.Option(
        "--rate-limit",
        min=0.001,
        help="Requests per second the backpack allows, shared by every worker.",
    ),
]
BurstOption = Annotated[
    int | None,
    typer.Option(
        "--burst",
        min=1,
        help="Requests the backpack lets through at once (its own burst; workers send half).",
    ),
]
EmailOption = Annotated[
    str | None, typer.Option("--email", help="Email of the site (issuer) account on the backpack.")
]
PasswordOption = Annotated[
    str | None,
    typer.Option(
        "--password",
        envvar="OPENBACKPACK_SITE_PASSWORD",
        help="Password of the site account (or set OPENBACKPACK_SITE_PASSWORD).",
        show_envvar=True,
    ),
]


def _summary(backpack: SiteBackpack) -> dict[str, object]:
    provider = backpack.provider
    return {
        "id": provider.id,
        "api_url": provider.api_url,
        "web_url": provider.web_url,
        "api_version": provider.api_version.value,
        "sort_order": provider.sort_order,
        "primary": backpack.is_primary,
        "site_account": backpack.site_account.email if backpack.site_account else None,
        "rate_limit": provider.rate_limit,
        "burst": provider.burst,
    }


def _show(backpacks: list[SiteBackpack], as_json: bool) -> None:
    summaries = [_summary(b) for b in backpacks]
    if as_json:
        print_json(summaries)
        return
    print_table(
        "Site backpacks",
        ["id", "web URL", "API URL", "version", "primary", "site account"],
        [
            [
                s["id"],
                s["web_url"],
                s["api_url"],
                s["api_version"],
                "yes" if s["primary"] else "",
                s["site_account"],
            ]
            for s in summaries
        ],
    )


@backpacks_app.command("list")
def list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the site backpacks, primary first."""
    with open_store(ctx) as store:
        _show(list_backpacks(store), as_json)


@backpacks_app.command("add")
def add_command(
    ctx: typer.Context,
    api_url: Annotated[str, typer.Argument(help="API URL, e.g. https://api.badgr.io/v2")],
    web_url: Annotated[str, typer.Argument(help="Web URL shown to users, e.g. https://badgr.io")],
    api_version: Annotated[str, typer.Option("--api-version", help="1, 2, 2.1 or 3.0.")] = "2",
    email: EmailOption = None,
    password: PasswordOption = None,
    rate_limit: RateOption = None,
    burst: BurstOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a site backpack (the first one added is the primary)."""
    with open_store(ctx) as store:
        added = add_backpack(store, api_url, web_url, api_version, email=email, password=password)
        if rate_limit is not None or burst is not None:
            added = _limited(store, added, rate_limit, burst)
    _done(f"added site backpack {added.id}", added, as_json)


@backpacks_app.command("edit")
def edit_command(
    ctx: typer.Context,
    backpack_id: Annotated[int, typer.Argument(help="The backpack's id.")],
    api_url: Annotated[str | None, typer.Option("--api-url")] = None,
    web_url: Annotated[str | None, typer.Option("--web-url")] = None,
    api_version: Annotated[str | None, typer.Option("--api-version")] = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    rate_limit: RateOption = None,
    burst: BurstOption = None,
    no_rate_limit: Annotated[
        bool, typer.Option("--no-rate-limit", help="Remove the shared rate limit.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Change a site backpack; remote ids are kept unless the API URL or account changes."""
    with open_store(ctx) as store:
        edited = edit_backpack(
            store,
            backpack_id,
            api_url=api_url,
            web_url=web_url,
            api_version=api_version,
            email=email,
            password=password,
        )
        if no_rate_limit:
            edited = _limited(store, edited, None, None, replace=True)
        elif rate_limit is not None or burst is not None:
            edited = _limited(store, edited, rate_limit, burst)
    _done(f"updated site backpack {edited.id}", edited, as_json)


def _limited(
    store: Store,
    backpack: SiteBackpack,
    rate_limit: float | None,
    burst: int | None,
    *,
    replace: bool = False,
) -> SiteBackpack:
    """Set the provider's shared limit; an option left out keeps its value (unless replace)."""
    current = backpack.provider
    if not replace:
        rate_limit = rate_limit if rate_limit is not None else current.rate_limit
        burst = burst if burst is not None else current.burst
    if rate_limit is None and burst is not None:
        raise InvalidInputError("--burst needs a --rate-limit")
    with store.transaction() as tx:
        provider = tx.providers.set_rate_limit(current.id, rate_limit, burst)
    return dataclasses.replace(backpack, provider=provider)


@backpacks_app.command("remove")
def remove_command(
    ctx: typer.Context, backpack_id: Annotated[int, typer.Argument(help="The backpack's id.")]
) -> None:
    """Delete a site backpack with its accounts, selections, remote ids and tokens."""
    with open_store(ctx) as store:
        remove_backpack(store, backpack_id)
    out.print(f"removed site backpack {backpack_id}", markup=False)


@backpacks_app.command("move")
def move_command(
    ctx: typer.Context,
    backpack_id: Annotated[int, typer.Argument(help="The backpack's id.")],
    direction: Annotated[str, typer.Argument(help="up (towards primary) or down.")],
    as_json: JsonOption = False,
) -> None:
    """Swap a site backpack with its neighbour in the order."""
    with open_store(ctx) as store:
        _show(move_backpack(store, backpack_id, direction), as_json)


def _done(message: str, backpack: SiteBackpack, as_json: bool) -> None:
    if as_json:
        print_json(_summary(backpack))
    else:
        out.print(message, markup=False)


@backpacks_app.command("test")
def test_command(
    ctx: typer.Context, backpack_id: Annotated[int, typer.Argument(help="The backpack's id.")]
) -> None:
    """Log in with the site account and report what the backpack said."""
    with open_store(ctx) as store:
        result = check_backpack_connection(store, backpack_id)
    out.print(result.message, markup=False)
    if not result.ok:
        raise typer.Exit(1)
