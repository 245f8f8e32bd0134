"""Connecting a Badge Connect (2.1) backpack from the pages: OAuth 2 with PKCE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from openbackpack.client import BackpackClient
from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.services import MaildirMailer, set_site_setting
from openbackpack.store import Store
from openbackpack.web import _oauth
from tests.services._bc import badge_connect_site, consent_location, new_learner
from tests.services.conftest import Site

from .conftest import Web, serve_pages

# The Badge Connect host announces loopback URLs.
pytestmark = pytest.mark.usefixtures("loopback_allowed")


@pytest.fixture(scope="module")
def bc_loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A Badge Connect host that accepts this test's loopback callback URL."""
    directory = tmp_path_factory.mktemp("bc-web")
    settings = HostSettings(
        db_url=f"sqlite:///{directory / 'bc.sqlite3'}",
        allow_private_fetch=True,
        login_backoff_max=0,
        allow_loopback_redirects=True,
    )
    with run_host_in_thread(settings) as running:
        yield running


@pytest.fixture
def pages(
    store: Store, bc_loopback: RunningHost, client: BackpackClient, tmp_path: Path
) -> Iterator[tuple[Web, int]]:
    """The pages over a store whose only backpack is the 2.1 host."""
    with badge_connect_site(store, bc_loopback) as bc_site:
        site = Site(store, bc_site.provider_id, bc_site.provider_id, bc_site.badge_id,
                       bc_site.badge_id, MaildirMailer(tmp_path / "out"))  # fmt: skip
        with serve_pages(site, client) as web:
            yield web, bc_site.provider_id


def test_a_learner_connects_a_2_1_backpack_through_the_consent_page(
    pages: tuple[Web, int], bc_loopback: RunningHost
) -> None:
    """Connect, consent at the host, come back: the account is the learner's."""
    web, provider = pages
    email = new_learner(bc_loopback)
    learner = web.visitor("learner-a")
    learner.get(f"/connect/{provider}")
    page = learner.post(f"/connect/{provider}")
    assert page.status_code == 200
    link = page.text.split('id="continue" href="')[1].split('"')[0].replace("&amp;", "&")
    back = consent_location(link, email)
    assert back.startswith(web.url + "/oauth/callback?")
    done = learner.get(back)
    assert done.status_code == 303
    assert done.headers["location"].endswith("/badges")
    assert learner.get("/badges").status_code == 200
    home = learner.get("/").text
    assert "See the badges" in home
    assert "Choose collections" not in home
    with web.site.store.transaction() as tx:
        account = tx.accounts.find("learner-a", provider)
    assert account is not None
    assert account.email == email


def test_a_callback_of_another_learner_s_session_is_refused(
    pages: tuple[Web, int], bc_loopback: RunningHost
) -> None:
    """Learner B opening the callback of A's authorization gets 400 and no account is made."""
    web, provider = pages
    email = new_learner(bc_loopback)
    learner_a = web.visitor("learner-a")
    learner_a.get(f"/connect/{provider}")
    page = learner_a.post(f"/connect/{provider}")
    link = page.text.split('id="continue" href="')[1].split('"')[0].replace("&amp;", "&")
    back = consent_location(link, email)
    refused = web.visitor("learner-b").get(back)
    assert refused.status_code == 400
    assert "not yours" in refused.text
    with web.site.store.transaction() as tx:
        assert tx.accounts.list(provider_id=provider) == []


def test_the_callback_is_built_on_the_site_url_setting(
    pages: tuple[Web, int], bc_loopback: RunningHost
) -> None:
    """With site_url set, the backpack is given, and sends the browser back to, that address."""
    web, provider = pages
    port = web.url.rsplit(":", 1)[1]
    # The same server under another name: what a proxy's public address stands for here.
    public = f"http://localhost:{port}"
    set_site_setting(web.site.store, "site_url", public)
    email = new_learner(bc_loopback)
    learner = web.visitor("learner-a")
    learner.get(f"/connect/{provider}")
    page = learner.post(f"/connect/{provider}")
    link = page.text.split('id="continue" href="')[1].split('"')[0].replace("&amp;", "&")
    sent = parse_qs(urlsplit(link).query)["redirect_uri"]
    assert sent == [public + "/oauth/callback"]
    back = consent_location(link, email)
    assert back.startswith(public + "/oauth/callback?")
    # The session cookie belongs to the address the learner started on.
    done = learner.get(back.replace(public, web.url, 1))
    assert done.status_code == 303
    with web.site.store.transaction() as tx:
        assert tx.accounts.find("learner-a", provider) is not None


def test_the_callback_keeps_the_mount_prefix_after_the_site_url() -> None:
    """Mounted under /backpack, the callback is site_url + /backpack/oauth/callback."""
    app = Starlette(routes=_oauth.routes())
    scope = {
        "type": "http", "app": app, "router": app.router, "scheme": "http",
        "server": ("10.0.0.5", 8000), "root_path": "/backpack", "path": "/backpack/connect/1",
        "query_string": b"", "headers": [(b"host", b"10.0.0.5:8000")],
    }  # fmt: skip
    request = Request(scope)
    assert _oauth.callback_url(request, "") == "http://10.0.0.5:8000/backpack/oauth/callback"
    assert (
        _oauth.callback_url(request, "https://lms.example.org/")
        == "https://lms.example.org/backpack/oauth/callback"
    )
