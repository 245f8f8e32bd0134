"""``openbackpack demo``: the whole job, end to end, on loopback, with nothing configured.

A reference host and a fresh store in a temporary directory; an issuer and a learner account
on the host; the host registered as the primary site backpack; a badge issued to the learner;
the learner's backpack connected (the code read from the mail outbox); the badge pushed; a
collection chosen; the learner's external badges listed; the backpack disconnected.
"""

from __future__ import annotations

import re
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from openbackpack.client import AddressPolicy, BackpackClient
from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.issuer import create_issuer_app
from openbackpack.protocols import badgr
from openbackpack.serve import base_url_of, bind_socket, serve_in_thread
from openbackpack.services import (
    MaildirMailer,
    add_backpack,
    disconnect,
    external_badges,
    list_collections,
    push_award,
    select_collections,
    start_connection,
    verify_connection,
)
from openbackpack.store import SecretBox, Store

__all__ = ["DemoEnvironment", "DemoStep", "demo_png", "run_demo"]

ISSUER_EMAIL: Final = "issuer@demo.example"
LEARNER_EMAIL: Final = "learner@demo.example"
LEARNER: Final = "learner-1"
# Demo accounts on a throwaway local host, not secrets.
ISSUER_PASSWORD: Final = "issuer-demo-password"
LEARNER_PASSWORD: Final = "learner-demo-password"


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One step of the demo: what it did, what came of it, and how long it took."""

    name: str
    outcome: str
    seconds: float


@dataclass
class DemoEnvironment:
    """Where the demo's parts live (printed by ``--keep``)."""

    directory: Path
    store_url: str
    host_url: str
    api_url: str
    issuer_url: str
    outbox: Path
    steps: list[DemoStep] = field(default_factory=list)


def demo_png(size: int = 32) -> bytes:
    """A small opaque PNG (a blue square), made here so the demo needs no image file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\x1f\x6f\xd6" * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


@contextmanager
def _issuer_app(store: Store) -> Iterator[str]:
    sock = bind_socket()
    base = base_url_of(sock) + "/"
    with serve_in_thread(create_issuer_app(store, base.rstrip("/")), sock=sock) as url:
        yield url


class _Runner:
    def __init__(self, env: DemoEnvironment, say: Callable[[str], None]) -> None:
        self.env = env
        self.say = say

    def step(self, name: str, action: Callable[[], str], command: Callable[[], str]) -> None:
        started = time.perf_counter()
        outcome = action()
        seconds = time.perf_counter() - started
        self.env.steps.append(DemoStep(name, outcome, seconds))
        self.say(f"✓ {name}: {outcome} ({seconds:.2f}s)")
        # What a user would type for the same step (the demo calls the library directly).
        self.say(f"  $ {command()}")


def run_demo(
    directory: Path,
    *,
    say: Callable[[str], None] = print,
    keep: Callable[[DemoEnvironment], None] | None = None,
) -> DemoEnvironment:
    """Run the demo in ``directory``; ``keep`` is called while everything still runs."""
    store_url = f"sqlite:///{directory / 'store.sqlite3'}"
    settings = HostSettings(
        db_url=f"sqlite:///{directory / 'host.sqlite3'}",
        allow_private_fetch=True,
        login_backoff_max=0,
    )
    with ExitStack() as stack:
        store = stack.enter_context(Store.open(store_url, secret_key=SecretBox.generate_key()))
        host = stack.enter_context(run_host_in_thread(settings))
        issuer_url = stack.enter_context(_issuer_app(store))
        # Everything runs on this machine: loopback is allowed explicitly, whatever is announced.
        loopback = AddressPolicy.allowing_loopback()
        client = stack.enter_context(
            BackpackClient(announced_addresses=loopback, provider_addresses=loopback)
        )
        env = DemoEnvironment(
            directory, store_url, host.base_url, host.api_url, issuer_url, directory / "outbox"
        )
        say(f"reference host on {host.base_url}, store {store_url}")
        _steps(_Runner(env, say), store, host, client, issuer_url)
        if keep is not None:
            keep(env)
    return env


def _steps(
    run: _Runner, store: Store, host: RunningHost, client: BackpackClient, issuer_url: str
) -> None:
    mailer = MaildirMailer(run.env.outbox)
    state: dict[str, object] = {}

    def accounts() -> str:
        host.add_user(ISSUER_EMAIL, ISSUER_PASSWORD)
        host.add_user(LEARNER_EMAIL, LEARNER_PASSWORD)
        return f"{ISSUER_EMAIL} (issuer) and {LEARNER_EMAIL} (learner)"

    def site_backpack() -> str:
        added = add_backpack(
            store, host.api_url, host.base_url, "2",
            email=ISSUER_EMAIL, password=ISSUER_PASSWORD,
        )  # fmt: skip
        state["provider"] = added.id
        return f"site backpack {added.id} ({host.api_url}), primary: {added.is_primary}"

    def issue() -> str:
        with store.transaction() as tx:
            issuer = tx.issuers.create("Demo University", "https://demo.example", ISSUER_EMAIL)
            badge = tx.badge_classes.create(
                issuer.id, "Open Badges explorer", "Ran the openbackpack demo.", demo_png(),
                criteria_narrative="Run `openbackpack demo`.",
            )  # fmt: skip
            award = tx.awards.create(badge.id, LEARNER_EMAIL)
        state["award"] = award.hash
        state["badge"] = badge.id
        return f"'{badge.name}' awarded to {LEARNER_EMAIL} (award {award.hash[:12]}…)"

    def connect() -> str:
        provider = int(str(state["provider"]))
        start_connection(store, LEARNER, provider, LEARNER_EMAIL, LEARNER_PASSWORD, mailer=mailer)
        body = mailer.messages()[-1].get_content()
        found = re.search(r"verification code is: (\S+)", body)
        assert found is not None
        account = verify_connection(store, LEARNER, found.group(1), client=client)
        return f"code read from {run.env.outbox}, account {account.id} verified"

    def push() -> str:
        result = push_award(
            store, LEARNER, str(state["award"]), issuer_base_url=issuer_url, client=client
        )
        state["assertion"] = result.site_assertion_id
        return f"{result.status} (Badgr assertion {result.site_assertion_id})"

    def choose() -> str:
        collection = _learner_collection(client, host, str(state["assertion"]))
        state["collection"] = collection
        select_collections(store, LEARNER, [collection], client=client)
        offered = list_collections(store, LEARNER, client=client)
        return f"{len(offered)} published collection(s); '{offered[0].name}' selected"

    def show() -> str:
        found = external_badges(store, LEARNER, refresh=True, client=client)
        names = ", ".join(
            f"{b.name} (recipient {'verified' if b.recipient_verified else 'NOT verified'})"
            for b in found.badges
        )
        return f"{found.total_badges} badge(s): {names}"

    def leave() -> str:
        disconnect(store, LEARNER, int(str(state["provider"])), acting_user=LEARNER)
        with store.transaction() as tx:
            left = len(tx.accounts.list(owner=LEARNER))
        return f"account removed; {left} account(s) left for {LEARNER}"

    db = f"--db {run.env.store_url}"
    host_db = f"--db sqlite:///{run.env.directory / 'host.sqlite3'}"

    def provider() -> str:
        return str(state["provider"])

    commands: dict[str, Callable[[], str]] = {
        "accounts": lambda: f"openbackpack host add-user {LEARNER_EMAIL} --password P {host_db}",
        "site_backpack": lambda: (
            f"openbackpack {db} backpacks add {host.api_url} "
            f"{host.base_url} --api-version 2 --email {ISSUER_EMAIL} --password P"
        ),
        "issue": lambda: f"openbackpack {db} award {state['badge']} {LEARNER_EMAIL}",
        "connect": lambda: (
            f"openbackpack {db} connect --user {LEARNER} --backpack {provider()} "
            f"--email {LEARNER_EMAIL} --password P && "
            f"openbackpack {db} verify --user {LEARNER} CODE"
        ),
        "push": lambda: (
            f"openbackpack {db} push --user {LEARNER} --base-url {issuer_url} {state['award']}"
        ),
        "choose": lambda: (
            f"openbackpack {db} collections select --user {LEARNER} "
            f"{state.get('collection', 'COLLECTION_ID')}"
        ),
        "show": lambda: f"openbackpack {db} badges --user {LEARNER} --refresh",
        "leave": lambda: f"openbackpack {db} disconnect --user {LEARNER} --backpack {provider()}",
    }
    for name, action in (
        ("create host accounts", accounts),
        ("register the primary site backpack", site_backpack),
        ("issue a badge", issue),
        ("connect the learner's backpack", connect),
        ("add the badge to the backpack", push),
        ("choose the learner's collection", choose),
        ("list the learner's external badges", show),
        ("disconnect", leave),
    ):
        run.step(name, action, commands[action.__name__])


def _learner_collection(client: BackpackClient, host: RunningHost, assertion: str) -> str:
    """Make a published collection holding the badge, as the learner would on the website."""
    token = client.password_grant(host.api_url, LEARNER_EMAIL, LEARNER_PASSWORD)
    created = client.fetch(
        badgr.route("backpack.collections.create"),
        host.api_url,
        data={"name": "Shown on my profile", "published": True},
        token=token.access_token,
    ).json()["result"][0]
    client.fetch(
        badgr.route("backpack.collections.update"),
        host.api_url,
        params={"collection": created["entityId"]},
        data={"name": created["name"], "published": True, "assertions": [assertion]},
        token=token.access_token,
    )
    return str(created["entityId"])
