"""``openbackpack demo --web``: the pages on loopback, ready to click through, nothing configured.

A reference host and a fresh store in a temporary directory; an issuer and a learner account
on the host; the host offered twice as a site backpack (Badgr v2 as the primary, with the
site's account, and Badge Connect 2.1); a badge of the site awarded to the learner; the
pages, the site's hosted Open Badges documents and a demo login served on one loopback port.
The learner connects, chooses collections and adds the award in the browser; the admin
manages the backpacks. Verification mail goes to a Maildir outbox in the directory.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from starlette.applications import Starlette
from starlette.routing import Mount

from openbackpack._demo import (
    ISSUER_EMAIL,
    ISSUER_PASSWORD,
    LEARNER_EMAIL,
    LEARNER_PASSWORD,
    demo_png,
)
from openbackpack.client import AddressPolicy, BackpackClient
from openbackpack.host import HostSettings, run_host_in_thread
from openbackpack.issuer import create_issuer_app
from openbackpack.serve import base_url_of, bind_socket
from openbackpack.services import MaildirMailer, add_backpack, set_site_setting
from openbackpack.store import SecretBox, Store
from openbackpack.web import WebSettings, create_web_app
from openbackpack.web._demo import demo_identify_with, demo_routes

__all__ = ["ADMIN", "LEARNER", "WebDemo", "web_demo"]

LEARNER: Final = "learner-1"
"""The demo learner's user id on the pages."""

ADMIN: Final = "admin-1"
"""The demo admin's user id (log in with "Site administrator" ticked)."""

_ISSUER_MOUNT: Final = "/issuer"


@dataclass(frozen=True)
class WebDemo:
    """The running parts of the web demo, and where to reach them."""

    app: Starlette
    sock: socket.socket
    store: Store
    client: BackpackClient
    url: str
    host_url: str
    store_url: str
    outbox: Path


def _seed(store: Store, api_url: str, host_url: str) -> None:
    # One web address per site backpack: the Badgr side's is the host's /web.
    add_backpack(
        store, api_url, host_url + "/web", "2", email=ISSUER_EMAIL, password=ISSUER_PASSWORD
    )
    # The reference host also speaks Badge Connect: the same accounts, through OAuth consent
    # (its manifest is found under the web address).
    add_backpack(store, host_url + "/api", host_url, "2.1")
    with store.transaction() as tx:
        issuer = tx.issuers.create("Demo University", "https://demo.example", ISSUER_EMAIL)
        badge = tx.badge_classes.create(
            issuer.id, "Open Badges explorer", "Tried the openbackpack pages.", demo_png(),
            criteria_narrative="Run `openbackpack demo --web`.",
        )  # fmt: skip
        tx.awards.create(badge.id, LEARNER_EMAIL)


@contextmanager
def web_demo(directory: Path) -> Iterator[WebDemo]:
    """Start the host and build the pages over a new store in ``directory``; stop on exit.

    The pages are not served yet: the caller serves ``app`` on ``sock`` (its address is
    ``url``), so that Ctrl-C is handled where the command runs.
    """
    store_url = f"sqlite:///{directory / 'store.sqlite3'}"
    host_settings = HostSettings(
        db_url=f"sqlite:///{directory / 'host.sqlite3'}",
        allow_private_fetch=True,  # the host fetches the site's documents on loopback
        login_backoff_max=0,
    )
    with ExitStack() as stack:
        store = stack.enter_context(Store.open(store_url, secret_key=SecretBox.generate_key()))
        host = stack.enter_context(run_host_in_thread(host_settings))
        # Everything runs on this machine: loopback is allowed explicitly, whatever is announced.
        loopback = AddressPolicy.allowing_loopback()
        client = stack.enter_context(
            BackpackClient(announced_addresses=loopback, provider_addresses=loopback)
        )
        host.add_user(ISSUER_EMAIL, ISSUER_PASSWORD)
        host.add_user(LEARNER_EMAIL, LEARNER_PASSWORD)
        _seed(store, host.api_url, host.base_url)
        sock = bind_socket()
        stack.callback(sock.close)
        url = base_url_of(sock)
        set_site_setting(store, "site_url", url)
        outbox = directory / "outbox"
        settings = WebSettings(
            secret_key=secrets.token_urlsafe(32),
            issuer_base_url=url + _ISSUER_MOUNT,
            mailer=MaildirMailer(outbox),
            login_url="/demo-login",
            allow_private_images=True,  # the badge images are on the loopback host
            client=client,
        )
        pages = create_web_app(
            store,
            settings,
            identify=demo_identify_with({LEARNER: LEARNER_EMAIL}),
            extra_routes=demo_routes(),
        )
        app = Starlette(
            routes=[
                Mount(_ISSUER_MOUNT, app=create_issuer_app(store, url + _ISSUER_MOUNT)),
                Mount("/", app=pages),
            ]
        )
        yield WebDemo(app, sock, store, client, url, host.base_url, store_url, outbox)
