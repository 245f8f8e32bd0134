"""``openbackpack settings``: show and change the site settings."""

from __future__ import annotations

from typing import Annotated

import typer

from openbackpack.cli._context import open_store
from openbackpack.cli._output import out, print_json, print_table
from openbackpack.services import SETTING_KEYS, set_site_setting, settings_as_dict, site_settings
from openbackpack.store import SiteSettings

__all__ = ["settings_app"]

settings_app = typer.Typer(help="Show and change the site settings.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _show(settings: SiteSettings, as_json: bool) -> None:
    values = settings_as_dict(settings)
    if as_json:
        print_json(values)
        return
    rows = [
        [key, _display(value), "" if key in SETTING_KEYS else "read-only"]
        for key, value in sorted(values.items())
    ]
    print_table("Site settings", ["setting", "value", "note"], rows)


def _display(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value == "":
        return "(not set)"
    return str(value).replace("\n", "\\n")


@settings_app.command("show")
def show_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show every site setting (empty templates mean the built-in text)."""
    with open_store(ctx) as store:
        _show(site_settings(store), as_json)


@settings_app.command("set")
def set_command(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help=f"The setting: {', '.join(SETTING_KEYS)}.")],
    value: Annotated[
        str,
        typer.Argument(help="The new value (true/false for switches; '' resets a template)."),
    ],
    as_json: JsonOption = False,
) -> None:
    """Change one site setting, then show them all."""
    with open_store(ctx) as store:
        _show(set_site_setting(store, key, value), as_json)
    if not as_json:
        out.print(f"{key} changed", markup=False)
