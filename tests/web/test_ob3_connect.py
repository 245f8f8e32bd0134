"""Connecting an Open Badges 3.0 backpack from the pages: the same OAuth 2 path as 2.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openbackpack.client import BackpackClient
from openbackpack.host import RunningHost, run_host_in_thread
from openbackpack.services import MaildirMailer
from openbackpack.store import Store
from tests.services._bc import consent_location, new_learner
from tests.services._ob3 import ob3_host_settings, ob3_site
from tests.services.conftest import Site

from .conftest import Web, serve_pages

pytestmark = pytest.mark.usefixtures("loopback_allowed")


@pytest.fixture(scope="module")
def ob3_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """An OB 3.0 host that accepts this test's loopback callback URL."""
    settings = ob3_host_settings(
        tmp_path_factory.mktemp("ob3-web"), "host", allow_loopback_redirects=True
    )
    with run_host_in_thread(settings) as running:
        yield running


@pytest.fixture
def pages(
    store: Store, ob3_host: RunningHost, client: BackpackClient, tmp_path: Path
) -> Iterator[tuple[Web, int]]:
    """The pages over a store whose only backpack is the 3.0 host."""
    with ob3_site(store, ob3_host) as site3:
        site = Site(store, site3.provider_id, site3.provider_id, site3.badge_id,
                    site3.badge_id, MaildirMailer(tmp_path / "out"))  # fmt: skip
        with serve_pages(site, client) as web:
            yield web, site3.provider_id


def test_a_learner_connects_a_3_0_backpack_through_the_consent_page(
    pages: tuple[Web, int], ob3_host: RunningHost
) -> None:
    """Connect, consent at the host, come back: the account is the learner's, tokens sealed."""
    web, provider = pages
    email = new_learner(ob3_host)
    learner = web.visitor("learner-3")
    learner.get(f"/connect/{provider}")
    page = learner.post(f"/connect/{provider}")
    assert page.status_code == 200
    link = page.text.split('id="continue" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "/o/v3p0/authorize?" in link
    back = consent_location(link, email)
    assert back.startswith(web.url + "/oauth/callback?")
    done = learner.get(back)
    assert done.status_code == 303
    with web.site.store.transaction() as tx:
        account = tx.accounts.find("learner-3", provider)
        assert account is not None
        assert tx.oauth_tokens.get(account.id) is not None
    assert account.email == email
