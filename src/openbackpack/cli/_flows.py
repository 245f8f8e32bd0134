"""The flows on the command line: connect, verify, collections, badges, push, disconnect."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from openbackpack._settings import data_dir
from openbackpack.cli._bc_connect import connect_badge_connect
from openbackpack.cli._context import open_store
from openbackpack.cli._output import out, print_json, print_table
from openbackpack.models import ApiVersion
from openbackpack.services import (
    BulkPushReport,
    MaildirMailer,
    Mailer,
    PushFailure,
    PushResult,
    SmtpMailer,
    cancel_connection,
    disconnect,
    external_badges,
    list_collections,
    push_awards,
    resend_verification,
    select_collections,
    start_connection,
    verify_connection,
)

__all__ = ["collections_app", "register"]

collections_app = typer.Typer(help="Choose which backpack collections to display.")

UserOption = Annotated[str, typer.Option("--user", help="The user (your platform's user id).")]
BackpackOption = Annotated[
    int | None,
    typer.Option("--backpack", help="The site backpack id (needed when there are several)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
IssuerUrlOption = Annotated[
    str,
    typer.Option(
        "--base-url",
        envvar="OPENBACKPACK_ISSUER_URL",
        help="Public base URL of this site's hosted badge documents.",
    ),
]

VerifyUrlOption = Annotated[
    str | None,
    typer.Option(
        "--verify-url",
        help="Your platform's verification page, put in the mail; $code in it becomes the code.",
    ),
]

SMTP_ENV = "OPENBACKPACK_SMTP_HOST"


def mailer_from_environment() -> tuple[Mailer, str]:
    """Return the configured mailer and a line that says where mail goes.

    SMTP when ``OPENBACKPACK_SMTP_HOST`` is set (with ``_PORT``, ``_STARTTLS``, ``_USER``,
    ``_PASSWORD``); otherwise a Maildir outbox (``OPENBACKPACK_OUTBOX``, or ``outbox`` in the
    user data directory).
    """
    host = os.environ.get(SMTP_ENV, "").strip()
    if host:
        port = int(os.environ.get("OPENBACKPACK_SMTP_PORT", "25"))
        mailer = SmtpMailer(
            host=host,
            port=port,
            starttls=os.environ.get("OPENBACKPACK_SMTP_STARTTLS", "") in ("1", "true", "yes"),
            username=os.environ.get("OPENBACKPACK_SMTP_USER") or None,
            password=os.environ.get("OPENBACKPACK_SMTP_PASSWORD") or None,
        )
        return mailer, f"mail sent through {host}:{port}"
    outbox = Path(os.environ.get("OPENBACKPACK_OUTBOX") or data_dir() / "outbox")
    return MaildirMailer(outbox), f"mail delivered to the outbox {outbox}"


def _sender() -> str:
    return os.environ.get("OPENBACKPACK_MAIL_FROM", "openbackpack@localhost")


def connect_command(
    ctx: typer.Context,
    user: UserOption,
    backpack: Annotated[int, typer.Option("--backpack", help="The site backpack id.")],
    email: Annotated[
        str | None,
        typer.Option(
            "--email",
            help="The backpack account's email (v1/v2: required; 2.1: used when the "
            "backpack does not share the profile).",
        ),
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            # Not the site account's variable: an admin who exported that one would log
            # every learner in with the site's password.
            envvar="OPENBACKPACK_LEARNER_PASSWORD",
            show_envvar=True,
            help="v2: the learner's backpack password (or set OPENBACKPACK_LEARNER_PASSWORD; "
            "prompted for when neither is given); v1 needs none.",
        ),
    ] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="2.1: only print the address to open.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=1, help="2.1: seconds to wait for the browser."),
    ] = 300.0,
    verify_url: VerifyUrlOption = None,
    redirect_uri: Annotated[
        str | None,
        typer.Option(
            "--redirect-uri",
            help="2.1: your site's https page the backpack sends the browser back to, for "
            "hosts that refuse loopback addresses (Badgr); then paste the address (or code).",
        ),
    ] = None,
    callback_url: Annotated[
        str | None,
        typer.Option(
            "--callback-url",
            help="2.1: finish a connection started with --redirect-uri: the address the "
            "browser was sent back to.",
        ),
    ] = None,
) -> None:
    """Connect a user's backpack.

    v1/v2: check the login now, then mail a verification code. Badge Connect (2.1) and Open
    Badges 3.0: print the
    address where the user logs in to the backpack and allows the connection (and open it
    unless --no-browser), wait for the browser to come back to a loopback listener, and
    connect. With --redirect-uri (hosts that want https, as Badgr does) the browser goes back
    to your site instead: paste the address it landed on, or the code, or finish later with
    --callback-url.
    """
    with open_store(ctx) as store:
        with store.transaction() as tx:
            version = tx.providers.get(backpack).api_version
        if version.uses_oauth:
            connect_badge_connect(
                store, user, backpack, email=email, browser=not no_browser, timeout=timeout,
                redirect_uri=redirect_uri, callback_url=callback_url,
            )  # fmt: skip
            return
        if not email:
            raise typer.BadParameter(
                "--email is required for v1 and v2 backpacks", param_hint="--email"
            )
        if version is ApiVersion.V1:
            password = None  # a Displayer knows its users by verified email alone
        elif password is None:
            password = typer.prompt("Password", hide_input=True)
        mailer, where = mailer_from_environment()
        pending = start_connection(
            store, user, backpack, email, password, mailer=mailer, sender=_sender(),
            verify_url=verify_url,
        )  # fmt: skip
    out.print(f"verification code sent to {pending.email}; {where}", markup=False)
    out.print(f"finish with: openbackpack verify --user {user} CODE", markup=False)


def verify_command(
    ctx: typer.Context,
    user: UserOption,
    code: Annotated[str, typer.Argument(help="The code from the verification mail.")],
    backpack: BackpackOption = None,
) -> None:
    """Finish a connection with the mailed code."""
    with open_store(ctx) as store:
        account = verify_connection(store, user, code, provider_id=backpack)
    out.print(
        f"connected {account.email} on backpack {account.provider_id} (account {account.id})",
        markup=False,
    )


def resend_command(
    ctx: typer.Context,
    user: UserOption,
    backpack: BackpackOption = None,
    verify_url: VerifyUrlOption = None,
) -> None:
    """Mail a fresh verification code for a pending connection."""
    mailer, where = mailer_from_environment()
    with open_store(ctx) as store:
        pending = resend_verification(
            store, user, backpack, mailer=mailer, sender=_sender(), verify_url=verify_url
        )
    out.print(f"new verification code sent to {pending.email}; {where}", markup=False)


def cancel_command(ctx: typer.Context, user: UserOption, backpack: BackpackOption = None) -> None:
    """Forget a pending connection (to start over with another email)."""
    with open_store(ctx) as store:
        count = cancel_connection(store, user, backpack)
    out.print(f"cancelled {count} pending connection(s)", markup=False)


@collections_app.command("list")
def collections_list(
    ctx: typer.Context,
    user: UserOption,
    backpack: BackpackOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the collections the user can display, and which are chosen."""
    with open_store(ctx) as store:
        choices = list_collections(store, user, backpack)
    if as_json:
        print_json(choices)
        return
    rows = [[c.id, c.name, c.badge_count, "yes" if c.selected else ""] for c in choices]
    print_table("Collections", ["id", "name", "badges", "selected"], rows)


@collections_app.command("select")
def collections_select(
    ctx: typer.Context,
    user: UserOption,
    collection_ids: Annotated[
        list[str],
        typer.Argument(
            help="The collection ids to display (put -- before them: Badgr ids may start with -)."
        ),
    ],
    backpack: BackpackOption = None,
) -> None:
    """Choose which collections to display (replaces the earlier choice)."""
    with open_store(ctx) as store:
        chosen = select_collections(store, user, collection_ids, backpack)
    out.print(f"{len(chosen)} collection(s) selected", markup=False)


def badges_command(
    ctx: typer.Context,
    user: UserOption,
    refresh: Annotated[bool, typer.Option("--refresh", help="Read the backpacks again.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Show the user's external badges (cached for an hour unless --refresh).

    An Open Badges 3.0 backpack's credentials are each verified: the "credential" column (and
    "verification" in --json) is the verifier's verdict.
    """
    with open_store(ctx) as store:
        found = external_badges(store, user, refresh=refresh)
    if as_json:
        print_json(found)
        return
    rows = [
        [b.name, b.issuer_name, b.issued_on.date() if b.issued_on else "",
         "yes" if b.recipient_verified else "no",
         str(b.verification.get("outcome", "")) if b.verification else "", b.assertion_id]
        for b in found.badges
    ]  # fmt: skip
    print_table(
        f"{found.total_badges} badge(s) from {found.total_collections} collection(s)",
        ["badge", "issuer", "issued", "recipient verified", "credential", "assertion"],
        rows,
    )
    for failure in found.failures:
        out.print(f"could not read: {failure}", markup=False)
    if found.stale and found.stale_since is not None:
        out.print(
            f"stale: showing the copy read at {found.stale_since:%Y-%m-%d %H:%M} UTC; "
            "the refresh failed:",
            markup=False,
        )
        for reason in found.stale_reasons:
            out.print(f"  {reason}", markup=False)


def push_command(
    ctx: typer.Context,
    award_hashes: Annotated[list[str], typer.Argument(help="One or more award hashes.")],
    base_url: IssuerUrlOption,
    user: Annotated[
        str | None, typer.Option("--user", help="The user; omit to push to the site backpack only.")
    ] = None,
    backpack: BackpackOption = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64)] = 8,
    refresh: Annotated[
        bool,
        typer.Option("--refresh", help="Send again assertions pushed before, even when unchanged."),
    ] = False,
    as_json: JsonOption = False,
    queue: Annotated[
        str | None,
        typer.Option(
            "--queue",
            help="Queue the push as a job on this queue for the workers (needs "
            "OPENBACKPACK_BROKER) and print the job's id, instead of pushing here.",
        ),
    ] = None,
) -> None:
    """Add awards to a user's backpack (site push, then import), many at once.

    Safe to interrupt and to run in several processes at once: a rerun creates nothing twice
    and sends nothing for awards pushed before and unchanged. With --queue, workers do it
    (follow it with: openbackpack jobs show ID --wait).
    """
    if queue is not None:
        from openbackpack.cli._jobs import enqueue_command_push

        enqueue_command_push(
            ctx, award_hashes, queue=queue, user=user, backpack=backpack, base_url=base_url,
            refresh=refresh,
        )  # fmt: skip
        return
    with open_store(ctx) as store, Progress(transient=True, disable=as_json) as progress:
        task = progress.add_task("pushing", total=len(award_hashes))

        def advance(_: PushResult | PushFailure) -> None:
            progress.advance(task)

        report = push_awards(
            store, user, award_hashes, issuer_base_url=base_url, provider_id=backpack,
            concurrency=concurrency, on_done=advance, refresh=refresh,
        )  # fmt: skip
    if as_json:
        print_json(
            {
                "results": report.results,
                "failures": [{"award_hash": f.award_hash, "error": str(f.error)}
                             for f in report.failures],
                "counts": _counts(report),
            }
        )  # fmt: skip
    else:
        rows = [[r.award_hash, r.status, _via(r)] for r in report.results]
        rows += [[f.award_hash, f"failed: {f.error}", ""] for f in report.failures]
        print_table("Pushed awards", ["award", "result", "via"], rows)
        out.print(", ".join(f"{n} {what}" for what, n in _counts(report).items()), markup=False)
    if report.failures:
        raise typer.Exit(1)


def _counts(report: BulkPushReport) -> dict[str, int]:
    return {
        "created": report.created,
        "adopted": report.adopted,
        "updated": report.updated,
        "skipped": report.skipped,
        "failed": report.failed,
    }


def _via(result: PushResult) -> str:
    if result.site_push_error is None:
        return result.via
    return f"{result.via} (site push failed: {result.site_push_error})"


def disconnect_command(
    ctx: typer.Context,
    user: UserOption,
    backpack: Annotated[int, typer.Option("--backpack", help="The site backpack id.")],
) -> None:
    """Disconnect the user's account on one backpack (their other backpacks stay).

    On a Badge Connect (2.1) or OB 3.0 backpack that offers revocation, its tokens are
    revoked there.
    """
    with open_store(ctx) as store:
        revoked = disconnect(store, user, backpack, acting_user=user)
    suffix = "; the backpack revoked its tokens" if revoked else ""
    out.print(f"disconnected {user} from backpack {backpack}{suffix}", markup=False)


def register(app: typer.Typer) -> None:
    """Add the flow commands to the root command."""
    app.command("connect")(connect_command)
    app.command("verify")(verify_command)
    app.command("resend")(resend_command)
    app.command("cancel")(cancel_command)
    app.add_typer(collections_app, name="collections")
    app.command("badges")(badges_command)
    app.command("push")(push_command)
    app.command("disconnect")(disconnect_command)
