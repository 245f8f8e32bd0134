"""The root command, its global options and the ``db`` and ``demo`` commands."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

import openbackpack
from openbackpack._exceptions import BackpackError, ConfigurationError
from openbackpack._settings import DB_ENV, default_database_url, parse_database_url
from openbackpack.cli import _flows, _issuer
from openbackpack.cli._backpacks import backpacks_app
from openbackpack.cli._context import Context, context_of
from openbackpack.cli._credentials import credential_app
from openbackpack.cli._help import install as _install_help
from openbackpack.cli._host import host_app
from openbackpack.cli._jobs import jobs_app, worker_command
from openbackpack.cli._move import move_command
from openbackpack.cli._output import err, out
from openbackpack.cli._privacy import privacy_app
from openbackpack.cli._reissue import reissue
from openbackpack.cli._settings import settings_app
from openbackpack.cli._web import web_app
from openbackpack.store import SecretBox, Store

__all__ = ["app", "main"]


class _Group(TyperGroup):
    """The root group: every deliberate error becomes one line on stderr and exit code 1."""

    # typer vendors click privately, so its Context base class has no public name to annotate.
    def invoke(self, ctx: Any) -> Any:
        """Run the command, translating :class:`BackpackError` at the edge."""
        try:
            return super().invoke(ctx)
        except BackpackError as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(1) from None
        except OSError as exc:
            # A file or socket the system refused (an unwritable directory, ...): the
            # system's reason and the path, never a traceback.
            where = f": {exc.filename}" if exc.filename else ""
            err.print(f"error: {exc.strerror or exc}{where}", markup=False)
            raise typer.Exit(1) from None


_install_help()

app = typer.Typer(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"]},
    name="openbackpack",
    help="Talk to Open Badges backpacks, and run a reference backpack host.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Create, migrate and inspect the store.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(backpacks_app, name="backpacks")
app.add_typer(host_app, name="host")
app.add_typer(settings_app, name="settings")
app.add_typer(privacy_app, name="privacy")
app.add_typer(credential_app, name="credential")
app.add_typer(web_app, name="web")


def _version(value: bool) -> None:
    if value:
        out.print(f"openbackpack {openbackpack.__version__}")
        raise typer.Exit


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar=DB_ENV,
            help="Store URL: sqlite:////ABSOLUTE/PATH (sqlite:///RELATIVE/PATH) or "
            "postgresql+psycopg://USER@HOST/DB.",
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
    _announce_waits()
    ctx.obj = Context(db_url=db or default_database_url())


def _announce_waits() -> None:
    # A throttled login can wait many seconds; the user sees why as the wait starts.
    waits = logging.getLogger("openbackpack.client.waits")
    if not any(isinstance(h, _StderrHandler) for h in waits.handlers):
        waits.addHandler(_StderrHandler())
        waits.setLevel(logging.INFO)


class _StderrHandler(logging.Handler):
    """Prints a record's message on stderr as ``note: ...``.

    ``sys.stderr`` is looked up at each emit, so a test runner's captured stderr gets it.
    """

    def emit(self, record: logging.LogRecord) -> None:
        """Print the record's message."""
        print(f"note: {record.getMessage()}", file=sys.stderr, flush=True)


def _redacted(url: str) -> str:
    return parse_database_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the store if needed and apply every pending migration."""
    context = context_of(ctx)
    with Store.open(context.db_url, migrate=True):
        out.print(f"store {_redacted(context.db_url)} is up to date")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Print which store is configured and check that its schema is current.

    Unlike every other command it creates nothing: a missing SQLite file is an error.
    """
    context = context_of(ctx)
    parsed = parse_database_url(context.db_url)
    database = parsed.database or ""
    file_based = parsed.drivername == "sqlite" and database not in ("", ":memory:")
    if file_based and not Path(database).is_file():
        raise ConfigurationError(
            f"no store at {Path(database).absolute()}: "
            "create it with `openbackpack db upgrade` (or check --db / OPENBACKPACK_DB)"
        )
    with Store.open(context.db_url, migrate=False):
        out.print(f"store {_redacted(context.db_url)}: schema current")


@db_app.command("new-key")
def db_new_key() -> None:
    """Print a new random secret key (for OPENBACKPACK_SECRET_KEY)."""
    out.print(SecretBox.generate_key())


@app.command()
def demo(
    keep: Annotated[
        bool,
        typer.Option(
            "--keep",
            help="Leave the host and store running (until Ctrl-C or SIGTERM) and print how "
            "to reach them.",
        ),
    ] = False,
    web: Annotated[
        bool,
        typer.Option(
            "--web",
            help="Serve the pages instead, with a demo learner and admin, until Ctrl-C.",
        ),
    ] = False,
) -> None:
    """Run the whole job end to end: a reference host, a site, a learner, a badge, a backpack.

    With --web: start the reference host, the issuer and the pages on loopback, print their
    address and the demo login, and serve until Ctrl-C.
    """
    import tempfile

    if web:
        if keep:
            raise typer.BadParameter("--web serves until Ctrl-C already", param_hint="--keep")
        _web_demo()
        return

    from openbackpack._demo import DemoEnvironment, run_demo

    def wait(env: DemoEnvironment) -> None:
        out.print(f"store:   {env.store_url}", markup=False)
        out.print(f"host:    {env.host_url} (Badgr API {env.api_url})", markup=False)
        out.print(f"issuer:  {env.issuer_url}", markup=False)
        out.print(f"outbox:  {env.outbox}", markup=False)
        out.print("serving until Ctrl-C", markup=False)
        _wait_for_stop_signal()
        out.print("stopped", markup=False)

    with tempfile.TemporaryDirectory(prefix="openbackpack-demo-") as scratch:
        directory = Path(tempfile.mkdtemp(prefix="openbackpack-demo-")) if keep else Path(scratch)
        env = run_demo(directory, say=lambda line: out.print(line, markup=False),
                       keep=wait if keep else None)  # fmt: skip
    total = sum(step.seconds for step in env.steps)
    out.print(f"openbackpack demo: {len(env.steps)} steps done in {total:.2f}s", markup=False)


def _wait_for_stop_signal() -> None:
    """Block until SIGINT (Ctrl-C) or SIGTERM.

    The handlers are installed here rather than relying on Python's KeyboardInterrupt: a
    process started in the background by a shell inherits SIGINT ignored, and Python then
    never raises it; a service manager stops with SIGTERM.
    """
    import signal
    import threading

    stop = threading.Event()
    previous = {
        number: signal.signal(number, lambda *_: stop.set())
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        # A bounded wait lets the main thread run the signal handler promptly.
        while not stop.wait(0.5):
            pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _web_demo() -> None:
    import tempfile

    from openbackpack._demo import LEARNER_EMAIL, LEARNER_PASSWORD
    from openbackpack._demo_web import ADMIN, LEARNER, web_demo
    from openbackpack.cli._web import serve_until_interrupted

    def say(line: str) -> None:
        out.print(line, markup=False)

    try:
        with (
            tempfile.TemporaryDirectory(prefix="openbackpack-demo-") as directory,
            web_demo(Path(directory)) as running,
        ):
            say(f"openbackpack demo pages at {running.url}/")
            say(f"demo login at {running.url}/demo-login")
            say(f"  learner: user id {LEARNER}; their backpack login on the host is "
                f"{LEARNER_EMAIL} / {LEARNER_PASSWORD}")  # fmt: skip
            say(f"  admin:   user id {ADMIN}, with 'Site administrator' ticked")
            say(f"host:    {running.host_url} (Badgr v2 and Badge Connect 2.1)")
            say(f"store:   {running.store_url}")
            say(f"outbox:  {running.outbox} (the verification codes)")
            say("serving until Ctrl-C")
            serve_until_interrupted(running.app, running.sock)
    except KeyboardInterrupt:
        pass  # Ctrl-C before the pages were up: stop all the same
    say("stopped")


_issuer.register(app)
_flows.register(app)
app.command("move")(move_command)
app.command("reissue")(reissue)
app.command("worker")(worker_command)
app.add_typer(jobs_app, name="jobs")


def main() -> None:
    """Run the command line."""
    app()
