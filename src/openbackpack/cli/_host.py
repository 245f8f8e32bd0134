"""``openbackpack host``: run the reference backpack host and manage its accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from openbackpack import host as reference_host
from openbackpack.cli._context import open_store
from openbackpack.cli._output import print_json, print_table
from openbackpack.protocols import ob3api
from openbackpack.protocols.badgeconnect import WELL_KNOWN_PATH
from openbackpack.serve import base_url_of, bind_socket

if TYPE_CHECKING:
    from starlette.types import ASGIApp

__all__ = ["ISSUER_MOUNT", "host_app"]

ISSUER_MOUNT = "/issuer"
"""Where ``host serve`` mounts the store's hosted Open Badges documents."""

host_app = typer.Typer(
    help="Run the reference backpack host (Badgr v2, Badge Connect, the Open Badges 3.0 API, "
    "Displayer) and manage its accounts.",
    no_args_is_help=True,
)
out = Console(highlight=False, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar=reference_host.HOST_DB_ENV,
        help="Host database: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB.",
        show_default="host.sqlite3 in the user data directory",
    ),
]
_FAULTS = "Fault injection"


@host_app.command("serve")
def serve(
    ctx: typer.Context,
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    issuer: Annotated[
        bool,
        typer.Option(
            "--issuer/--no-issuer",
            help="Also serve the store's (root --db) hosted Open Badges documents under /issuer.",
        ),
    ] = True,
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 0,
    public_url: Annotated[
        str | None,
        typer.Option(help="Public origin for ids and share URLs (default: each request's)."),
    ] = None,
    token_lifetime: Annotated[int, typer.Option(help="Access token lifetime, seconds.")] = 86400,
    allow_private_fetch: Annotated[
        bool, typer.Option(help="Let imports fetch loopback and private addresses.")
    ] = False,
    login_backoff_max: Annotated[
        int, typer.Option(help="Cap of the failed-login backoff, seconds; 0 disables it.")
    ] = 3600,
    badgr_quirks: Annotated[
        bool,
        typer.Option(
            "--badgr-quirks",
            help="Serve Badge Connect as Badgr does (/bcv1, results, error arrays, a 302 "
            "manifest, ...) instead of as the specification says.",
        ),
    ] = False,
    allow_loopback_redirects: Annotated[
        bool,
        typer.Option(
            "--allow-loopback-redirects",
            help="Accept http://127.0.0.1 redirect URIs in Badge Connect and OB 3.0 registrations.",
        ),
    ] = False,
    ob3_accept_unchecked: Annotated[
        bool,
        typer.Option(
            "--ob3-accept-unchecked",
            help="Store OB 3.0 credentials even when a check could not be made (an "
            "unreachable status list); invalid ones are always refused.",
        ),
    ] = False,
    status_list_max_age: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Longest time, in seconds, a verified OB 3.0 status list is relied on "
            "(only as long as its own ttl says); 0 fetches every credential's list.",
        ),
    ] = 300.0,
    keep_alive_timeout: Annotated[
        float, typer.Option(help="Seconds an idle kept-alive connection stays open.")
    ] = 5.0,
    header_timeout: Annotated[
        float, typer.Option(help="Seconds a connection has to send a request's headers.")
    ] = 10.0,
    body_timeout: Annotated[
        float, typer.Option(help="Longest silence while a request body arrives, seconds.")
    ] = 30.0,
    limit_concurrency: Annotated[
        int, typer.Option(help="Open connections beyond which requests get 503; 0: no limit.")
    ] = 1000,
    latency: Annotated[
        float, typer.Option(help="Seconds added to every answer.", rich_help_panel=_FAULTS)
    ] = 0.0,
    failure_rate: Annotated[
        float, typer.Option(help="Share of requests failed (0-1).", rich_help_panel=_FAULTS)
    ] = 0.0,
    failure_status: Annotated[
        list[int] | None,
        typer.Option(help="Status of injected failures (repeatable).", rich_help_panel=_FAULTS),
    ] = None,
    fail_first: Annotated[
        int, typer.Option(help="Fail the first N requests.", rich_help_panel=_FAULTS)
    ] = 0,
    drop_rate: Annotated[
        float, typer.Option(help="Share of answers cut off mid-body.", rich_help_panel=_FAULTS)
    ] = 0.0,
    drop_first: Annotated[
        int, typer.Option(help="Cut off the first N answers.", rich_help_panel=_FAULTS)
    ] = 0,
    rate_limit: Annotated[
        float | None,
        typer.Option(help="Token bucket: requests per second.", rich_help_panel=_FAULTS),
    ] = None,
    burst: Annotated[int, typer.Option(help="Token bucket size.", rich_help_panel=_FAULTS)] = 1,
    retry_after: Annotated[
        int, typer.Option(help="Retry-After of injected 429s.", rich_help_panel=_FAULTS)
    ] = 1,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the random draws.", rich_help_panel=_FAULTS)
    ] = None,
    black_hole_first: Annotated[
        int,
        typer.Option(
            min=0,
            help="Answer the first N imports and creates with success, storing nothing.",
            rich_help_panel=_FAULTS,
        ),
    ] = 0,
    black_hole_rate: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of imports and creates answered with success, storing nothing.",
            rich_help_panel=_FAULTS,
        ),
    ] = 0.0,
    static_path: Annotated[
        str | None,
        typer.Option(
            help="Also answer GET PATH with a fixed empty envelope (a benchmark's ceiling)."
        ),
    ] = None,
) -> None:
    """Serve the host and print its base URL; stop with Ctrl-C.

    The store's hosted Open Badges documents (issuers, badge classes, assertions) are served
    under /issuer unless --no-issuer is given.
    """
    faults = reference_host.FaultSettings(
        latency=latency,
        failure_rate=failure_rate,
        failure_statuses=tuple(failure_status or (503,)),
        fail_first=fail_first,
        drop_rate=drop_rate,
        drop_first=drop_first,
        rate_limit=rate_limit,
        burst=burst,
        retry_after=retry_after,
        seed=seed,
        black_hole_first=black_hole_first,
        black_hole_rate=black_hole_rate,
    )
    settings = reference_host.HostSettings(
        db_url=db,
        public_url=public_url,
        token_lifetime=token_lifetime,
        allow_private_fetch=allow_private_fetch,
        login_backoff_max=login_backoff_max,
        faults=faults,
        static_path=static_path,
        badgr_quirks=badgr_quirks,
        allow_loopback_redirects=allow_loopback_redirects,
        keep_alive_timeout=keep_alive_timeout,
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        limit_concurrency=limit_concurrency,
        ob3_accept_unchecked=ob3_accept_unchecked,
        status_list_max_age=status_list_max_age,
    )
    # Bind first, so the printed URL is the real one even with --port 0, and the issuer's
    # hosted documents know their public base URL.
    sock = bind_socket(host, port)
    base_url = base_url_of(sock)
    # The web stack is loaded when the host serves, not for every command.
    import uvicorn

    from openbackpack.host._badgeconnect import api_prefix

    mounts: dict[str, ASGIApp] = {}
    if issuer:
        store = open_store(ctx)
        from openbackpack.issuer import create_issuer_app  # the web stack, when serving

        mounts[ISSUER_MOUNT] = create_issuer_app(store, base_url + ISSUER_MOUNT)
    app = reference_host.create_app(settings, mounts=mounts)
    out.print(f"openbackpack host listening on {base_url} (Badgr API: {base_url}/v2)")
    api_base = base_url + api_prefix(badgr_quirks)
    out.print(f"Badge Connect: {base_url}{WELL_KNOWN_PATH} (apiBase {api_base})")
    out.print(f"Open Badges 3.0 API: {ob3api.discovery_url(base_url)}")
    if issuer:
        out.print(f"issuer documents of the store served under {base_url}{ISSUER_MOUNT}")
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, **reference_host.uvicorn_options(settings)
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully, then re-raises the signal it caught: Ctrl-C is the
        # normal way to stop, not a failure.
        pass
    finally:
        sock.close()
    out.print("openbackpack host stopped")


user_app = typer.Typer(help="Manage the host's users.", no_args_is_help=True)
email_app = typer.Typer(help="Manage the host users' e-mail addresses.", no_args_is_help=True)
collection_app = typer.Typer(help="Manage the host users' collections.", no_args_is_help=True)
host_app.add_typer(user_app, name="user")
host_app.add_typer(email_app, name="email")
host_app.add_typer(collection_app, name="collection")
credential_app = typer.Typer(
    help="See the Open Badges 3.0 credentials the host's users hold.", no_args_is_help=True
)
host_app.add_typer(credential_app, name="credential")


def _open(db: str | None) -> reference_host.HostDatabase:
    return reference_host.HostDatabase.open(db or reference_host.default_host_database_url())


@user_app.command("list")
def user_list(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the host's users with their e-mails (verified ones marked)."""
    database = _open(db)
    try:
        users = reference_host.list_users(database)
    finally:
        database.close()
    if as_json:
        print_json(users)
        return
    rows = [
        (u.id, ", ".join(e + ("" if e in u.verified_emails else " (unverified)") for e in u.emails),
         f"{u.first_name} {u.last_name}".strip())
        for u in users
    ]  # fmt: skip
    print_table("Host users", ["id", "emails", "name"], rows)


@credential_app.command("list")
def credential_list(
    user: Annotated[str, typer.Option("--user", help="An e-mail of the holder.")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the OB 3.0 credentials a host user holds (pushed through the 3.0 API)."""
    database = _open(db)
    try:
        held = reference_host.list_credentials(database, user)
    finally:
        database.close()
    if as_json:
        print_json(
            [
                {
                    "id": c.credential_id,
                    "issuer": c.issuer_id,
                    "achievement": c.achievement_id,
                    "format": c.format,
                    "issued": c.issued_at,
                    "updated": c.updated_at,
                }
                for c in held
            ]
        )
        return
    rows = [
        (c.credential_id or "-", c.issuer_id, c.achievement_id, c.format,
         c.issued_at.isoformat() if c.issued_at else "-")
        for c in held
    ]  # fmt: skip
    print_table(
        f"OB 3.0 credentials of {user.strip().lower()}",
        ["id", "issuer", "achievement", "format", "issued"],
        rows,
    )


@email_app.command("add")
def email_add(
    user_email: Annotated[str, typer.Argument(help="An e-mail the user already has.")],
    email: Annotated[str, typer.Argument(help="The e-mail to add.")],
    db: DbOption = None,
    verified: Annotated[bool, typer.Option(help="Whether the e-mail counts as verified.")] = True,
) -> None:
    """Give a host user another e-mail address (verified unless --no-verified)."""
    database = _open(db)
    try:
        user = reference_host.add_email(database, user_email, email, verified=verified)
    finally:
        database.close()
    state = "verified" if verified else "unverified"
    out.print(f"added {email.strip().lower()} ({state}) to user {user.id}", markup=False)


@collection_app.command("add")
def collection_add(
    user: Annotated[str, typer.Option("--user", help="An e-mail of the owner.")],
    name: Annotated[str, typer.Option(help="The collection's name.")],
    db: DbOption = None,
    published: Annotated[
        bool, typer.Option(help="Publish it, so sites can offer it to display.")
    ] = False,
    description: Annotated[str, typer.Option(help="A short description.")] = "",
    assertion: Annotated[
        list[str] | None,
        typer.Option(help="Entity id of a badge in the user's backpack (repeatable)."),
    ] = None,
) -> None:
    """Create a collection for a host user, as the host's web pages would."""
    database = _open(db)
    try:
        created = reference_host.add_collection(
            database, user, name, published=published, description=description,
            assertions=assertion or (),
        )  # fmt: skip
    finally:
        database.close()
    state = "published" if created.published else "not published"
    out.print(
        f"added collection {created.entity_id} '{created.name}' ({state}, "
        f"{len(created.assertions)} badge(s)) for {created.user_email}",
        markup=False,
    )


# One declaration for "host user add" and its older name "host add-user".
_LoginEmail = Annotated[str, typer.Argument(help="The login e-mail (stored lower-cased).")]
_LoginPassword = Annotated[
    str, typer.Option(prompt=True, hide_input=True, help="The password (prompted if absent).")
]
_FirstName = Annotated[str, typer.Option(help="First name.")]
_LastName = Annotated[str, typer.Option(help="Last name.")]
_Verified = Annotated[bool, typer.Option(help="Whether the e-mail counts as verified.")]


@user_app.command("add")
def user_add_command(
    email: _LoginEmail,
    password: _LoginPassword,
    db: DbOption = None,
    first_name: _FirstName = "",
    last_name: _LastName = "",
    verified: _Verified = True,
) -> None:
    """Create a host account that logs in with EMAIL and the password."""
    add_user_command(email, password, db, first_name, last_name, verified)


@host_app.command("add-user")
def add_user_command(
    email: _LoginEmail,
    password: _LoginPassword,
    db: DbOption = None,
    first_name: _FirstName = "",
    last_name: _LastName = "",
    verified: _Verified = True,
) -> None:
    """Create a host account that logs in with EMAIL and the password (also: host user add)."""
    database = reference_host.HostDatabase.open(db or reference_host.default_host_database_url())
    try:
        user = reference_host.add_user(
            database,
            email,
            password,
            verified=verified,
            first_name=first_name,
            last_name=last_name,
        )
    finally:
        database.close()
    state = "verified" if verified else "unverified"
    out.print(f"added user {user.emails[0]} ({state}), user id {user.id}")
