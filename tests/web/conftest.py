"""The pages served on loopback over a store whose backpacks are reference hosts.

The platform's ``identify`` hook is played by two request headers: ``x-user`` names the user
and ``x-admin: 1`` makes them an admin; without ``x-user`` nobody is logged in.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx2
import pytest
from starlette.requests import Request

from openbackpack.client import BackpackClient
from openbackpack.serve import serve_in_thread
from openbackpack.web import Identify, WebSettings, WebUser, create_web_app
from tests.services.conftest import (  # noqa: F401 (fixtures used by the web tests)
    ISSUER_BASE,
    Site,
    client,
    hosts,
    site,
)
from tests.web._browser import ARGS, CHROMIUM

if TYPE_CHECKING:
    from playwright.sync_api import Browser

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def identify(request: Request) -> WebUser | None:
    """Who the test says is asking."""
    user = request.headers.get("x-user")
    if user is None:
        return None
    return WebUser(user, is_admin=request.headers.get("x-admin") == "1")


@dataclass
class Visitor:
    """One browser-like visitor: its own cookies, the token of the last page it saw."""

    http: httpx2.Client
    token: str = ""

    def get(self, path: str, **options: object) -> httpx2.Response:
        """GET a page and remember its CSRF token."""
        answer = self.http.get(path, **options)  # type: ignore[arg-type]
        found = _TOKEN.search(answer.text)
        if found:
            self.token = found.group(1)
        return answer

    def post(self, path: str, data: dict[str, str] | None = None) -> httpx2.Response:
        """POST a form with the token of the last page seen (as a browser submits it)."""
        return self.http.post(path, data={"csrf_token": self.token, **(data or {})})


@dataclass(frozen=True)
class Web:
    """The running pages and the site behind them."""

    url: str
    site: Site
    opened: list[httpx2.Client]

    def visitor(self, user: str | None, *, admin: bool = False) -> Visitor:
        """A new visitor logged in as ``user`` (None: nobody)."""
        headers = {} if user is None else {"x-user": user}
        if admin:
            headers["x-admin"] = "1"
        http = httpx2.Client(base_url=self.url, headers=headers, timeout=30)
        self.opened.append(http)
        return Visitor(http)


@contextmanager
def serve_pages(
    site: Site,  # noqa: F811
    client: BackpackClient,  # noqa: F811
    identify_with: Identify | None = None,
    translations: gettext.NullTranslations | None = None,
    **options: Any,
) -> Iterator[Web]:
    """Serve the pages over ``site`` on loopback, with ``options`` for :class:`WebSettings`."""
    options = {"issuer_base_url": ISSUER_BASE, **options}
    settings = WebSettings(
        secret_key="test-secret-key-of-the-pages", mailer=site.outbox, client=client, **options
    )
    app = create_web_app(
        site.store, settings, identify=identify_with or identify, translations=translations
    )
    with serve_in_thread(app) as url:
        running = Web(url, site, [])
        yield running
        for http in running.opened:
            http.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, headless, for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def web(site: Site, client: BackpackClient) -> Iterator[Web]:  # noqa: F811
    """The pages on loopback over ``site``."""
    with serve_pages(site, client) as running:
        yield running


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run on the SQLite store only: what they prove is the page, not the database."""
    dropped = [
        i for i in items if i.path.name.startswith("test_browser") and "[postgresql" in i.nodeid
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if i not in dropped]
