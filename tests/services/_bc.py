"""Helpers of the Badge Connect flow tests: a browser that logs in and consents, a site."""

from __future__ import annotations

import html
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
from fastapi import FastAPI

from openbackpack.host import RunningHost
from openbackpack.issuer import create_issuer_app
from openbackpack.serve import base_url_of, bind_socket, serve_in_thread
from openbackpack.services import add_backpack
from openbackpack.store import Store
from tests.registry_data import PNG

PASSWORD = "bc-password"
_HIDDEN = re.compile(r'<input type=hidden name="([^"]*)" value="([^"]*)">')
_ACTION = re.compile(r'<form method=post action="([^"]*)">')


def new_learner(host: RunningHost) -> str:
    """A new verified user on the host; returns their email."""
    email = f"learner-{uuid.uuid4().hex[:10]}@example.org"
    host.add_user(email, PASSWORD)
    return email


def consent_location(url: str, email: str, *, answer: str = "allow") -> str:
    """Act as the user's browser: open the page, fill in the form; return where it redirects.

    Only what the page itself holds is sent back (its hidden fields and its form action).
    """
    with httpx2.Client(timeout=10) as browser:
        page = browser.get(url)
        assert page.status_code == 200, page.text
        fields = {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(page.text)}
        action = _ACTION.search(page.text)
        assert action is not None
        form = {**fields, "email": email, "password": PASSWORD, "consent": answer}
        sent = browser.post(urljoin(url, html.unescape(action.group(1))), data=form)
    assert sent.status_code == 302, sent.text
    return str(sent.headers["location"])


def consent(url: str, email: str, *, answer: str = "allow") -> dict[str, str]:
    """Like :func:`consent_location`, returning the redirect's query."""
    location = consent_location(url, email, answer=answer)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class Counting(httpx2.HTTPTransport):
    """A real transport that records every request's method, path and headers."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        with self._lock:
            self.requests.append((request.method, request.url.path, dict(request.headers)))
        return super().handle_request(request)

    def paths(self, method: str, suffix: str) -> int:
        """How many requests of ``method`` went to a path ending in ``suffix``."""
        return sum(1 for m, p, _ in self.requests if m == method and p.endswith(suffix))


@dataclass(frozen=True)
class Site:
    """A store with a 2.1 backpack, a registry badge and live hosted documents."""

    store: Store
    provider_id: int
    badge_id: int
    issuer_url: str

    def award(self, email: str) -> str:
        """Award the registry badge to ``email``; return the hash."""
        with self.store.transaction() as tx:
            return tx.awards.create(self.badge_id, email).hash


@contextmanager
def badge_connect_site(store: Store, host: RunningHost) -> Iterator[Site]:
    """Register ``host`` as a 2.1 backpack of ``store`` and serve the store's documents."""
    provider = add_backpack(store, host.base_url + "/api", host.base_url, "2.1")
    with store.transaction() as tx:
        issuer = tx.issuers.create("Example University", "https://example.org", "i@example.org")
        badge = tx.badge_classes.create(
            issuer.id, "Python basics", "Completed the course.", PNG, criteria_narrative="Pass."
        )
    with serving_documents(store) as base:
        yield Site(store, provider.id, badge.id, base)


@contextmanager
def serving_documents(store: Store) -> Iterator[str]:
    """Serve the store's hosted issuer documents on loopback; yield their base URL."""
    sock = bind_socket()
    base = base_url_of(sock) + "/issuer"
    app = FastAPI()
    app.mount("/issuer", create_issuer_app(store, base))
    with serve_in_thread(app, sock=sock):
        yield base
