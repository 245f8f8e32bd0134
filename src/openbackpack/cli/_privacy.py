"""``openbackpack privacy``: export or erase everything stored about one user."""

from __future__ import annotations

from typing import Annotated

import typer

from openbackpack.cli._context import open_store
from openbackpack.cli._output import err, out, print_json
from openbackpack.services import erase_user_data, export_user_data

__all__ = ["privacy_app"]

privacy_app = typer.Typer(
    help="Export or erase a user's backpack data (secrets are never exported).",
    no_args_is_help=True,
)

UserOption = Annotated[str, typer.Option("--user", help="The user (your platform's user id).")]


@privacy_app.command("export")
def export_command(ctx: typer.Context, user: UserOption) -> None:
    """Print, as JSON, everything stored about the user (secrets shown as "present")."""
    with open_store(ctx) as store:
        print_json(export_user_data(store, user))


def _confirmed(user: str) -> bool:
    try:
        return typer.confirm(
            f"Erase every backpack account, token and record of user {user!r}?", err=True
        )
    except typer.Abort:  # no terminal to answer on (stdin closed): the answer is no
        err.print("", markup=False)
        return False


@privacy_app.command("erase")
def erase_command(
    ctx: typer.Context,
    user: UserOption,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Revoke the user's tokens where the backpack allows it, then erase all their data."""
    if not yes and not _confirmed(user):
        err.print("nothing was erased", markup=False)
        raise typer.Exit(1)
    with open_store(ctx) as store:
        report = erase_user_data(store, user)
    if as_json:
        print_json(report)
        return
    out.print(
        f"erased user {report.owner}: {report.accounts} account(s), "
        f"{report.selected_collections} selected collection(s), {report.tokens} token(s), "
        f"{report.cached_badges} cached badge list(s), {report.import_records} import record(s), "
        f"{report.pending_verifications} pending verification(s), "
        f"{report.pending_authorizations} pending authorization(s)",
        markup=False,
    )
    for outcome in report.revocations:
        out.print(
            f"account {outcome.account_id} on backpack {outcome.provider_id}: {outcome.detail}",
            markup=False,
        )
