"""``openbackpack web``: serve the learner's and the admin's pages."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

from openbackpack.cli._context import open_store
from openbackpack.cli._flows import mailer_from_environment
from openbackpack.serve import base_url_of, bind_socket

if TYPE_CHECKING:
    from starlette.types import ASGIApp

__all__ = ["WEB_SECRET_ENV", "serve_until_interrupted", "web_app"]

WEB_SECRET_ENV: Final = "OPENBACKPACK_WEB_SECRET"
"""Environment variable with the key that signs the pages' session cookie."""

ISSUER_MOUNT: Final = "/issuer"

web_app = typer.Typer(help="Serve the learner's and the admin's pages.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)


@web_app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 0,
    demo_login: Annotated[
        bool,
        typer.Option(
            "--demo-login",
            help="Add a form that logs in as any user id (and as admin); only on loopback.",
        ),
    ] = False,
    login_url: Annotated[
        str | None, typer.Option(help="Where visitors who are not logged in are sent.")
    ] = None,
) -> None:
    """Serve the pages and the store's hosted Open Badges documents; stop with Ctrl-C.

    Without --demo-login nobody is logged in (the pages are meant to be mounted by a platform
    that says who is asking; see docs/web.md). Mail goes where openbackpack connect sends it.
    The session key is $OPENBACKPACK_WEB_SECRET, else a new one each run.
    """
    # The web stack is loaded when the pages are served, not for every command.
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from openbackpack.issuer import create_issuer_app
    from openbackpack.web import WebSettings, create_web_app
    from openbackpack.web._demo import demo_identify, demo_routes, is_loopback

    if demo_login and not is_loopback(host):
        raise typer.BadParameter(
            "--demo-login lets anyone log in as anyone: it is refused unless --host is a "
            "loopback address (127.0.0.1, ::1, localhost)",
            param_hint="--demo-login",
        )
    sock = bind_socket(host, port)
    base_url = base_url_of(sock)
    store = open_store(ctx)
    mailer, where = mailer_from_environment()
    settings = WebSettings(
        secret_key=os.environ.get(WEB_SECRET_ENV) or secrets.token_urlsafe(32),
        issuer_base_url=base_url + ISSUER_MOUNT,
        mailer=mailer,
        login_url=login_url or ("/demo-login" if demo_login else None),
    )
    pages = create_web_app(
        store,
        settings,
        identify=demo_identify if demo_login else (lambda _request: None),
        extra_routes=demo_routes() if demo_login else (),
    )
    app = Starlette(
        routes=[
            Mount(ISSUER_MOUNT, app=create_issuer_app(store, base_url + ISSUER_MOUNT)),
            Mount("/", app=pages),
        ]
    )
    out.print(f"openbackpack pages at {base_url}/", markup=False)
    if demo_login:
        out.print(f"demo login at {base_url}/demo-login", markup=False)
    out.print(where, markup=False)
    try:
        serve_until_interrupted(app, sock)
    finally:
        sock.close()
        store.close()
    out.print("openbackpack pages stopped", markup=False)


def serve_until_interrupted(app: ASGIApp, sock: socket.socket) -> None:
    """Serve ``app`` on ``sock`` in this thread until Ctrl-C (or SIGTERM), quietly."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the normal way to stop
        server.run(sockets=[sock])
