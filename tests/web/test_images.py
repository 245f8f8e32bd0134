"""Badge images: fetched by the server under the import rules, served from the app itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openbackpack.client import BackpackClient
from openbackpack.serve import serve_in_thread
from openbackpack.services import push_award, select_collections
from openbackpack.web._images import ImageCache, ImageRefused
from tests.registry_data import PNG
from tests.services.conftest import (
    ISSUER_BASE,
    LEARNER,
    LEARNER_EMAIL,
    LEARNER_PASSWORD,
    Hosts,
    Site,
    award,
    collection,
    connect,
)

from .conftest import serve_pages

_IMG = re.compile(r'<img class="badge-image" src="([^"]+)"')


def _badge_shown(site: Site, hosts: Hosts, client: BackpackClient) -> None:
    connect(site, site.primary_id)
    pushed = push_award(
        site.store, LEARNER, award(site), issuer_base_url=ISSUER_BASE, client=client
    )
    assert pushed.site_assertion_id is not None
    chosen = collection(
        client, hosts.primary, LEARNER_EMAIL, LEARNER_PASSWORD, [pushed.site_assertion_id]
    )
    select_collections(site.store, LEARNER, [chosen], client=client)


def test_a_badge_image_is_served_from_the_app(
    site: Site, hosts: Hosts, client: BackpackClient
) -> None:
    """The page links the image on this app; it answers the host's PNG; forged tokens 404."""
    _badge_shown(site, hosts, client)
    with serve_pages(site, client, allow_private_images=True) as web:
        learner = web.visitor(LEARNER)
        found = _IMG.search(learner.get("/badges").text)
        assert found is not None
        src = found.group(1).replace("&amp;", "&")
        assert src.startswith(web.url + "/images/")
        image = learner.get(src)
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert image.content == PNG
        assert image.headers["x-content-type-options"] == "nosniff"
        assert learner.get(src[:-3] + "xyz").status_code == 404
        assert learner.get(web.url + "/images/not-a-token").status_code == 404


def test_a_loopback_image_is_refused_by_default(
    site: Site, hosts: Hosts, client: BackpackClient
) -> None:
    """Without allow_private_images, an image on a loopback host is not fetched (404)."""
    _badge_shown(site, hosts, client)
    with serve_pages(site, client) as web:
        learner = web.visitor(LEARNER)
        found = _IMG.search(learner.get("/badges").text)
        assert found is not None
        assert learner.get(found.group(1).replace("&amp;", "&")).status_code == 404


class Rebinding:
    """A resolver answering ``first`` once, then ``later`` for ever; it counts the calls."""

    def __init__(self, first: str, later: str) -> None:
        self.first, self.later, self.calls = first, later, 0

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return [self.first if self.calls == 1 else self.later]


@contextmanager
def _image_server() -> Iterator[tuple[int, list[str]]]:
    """A loopback server answering a PNG at /badge.png; yields its port and the paths asked."""
    asked: list[str] = []

    async def badge(request: Request) -> Response:
        asked.append(request.url.path)
        return Response(PNG, media_type="image/png")

    app = Starlette(routes=[Route("/badge.png", badge)])
    with serve_in_thread(app) as url:
        yield int(url.rsplit(":", 1)[1]), asked


def test_a_name_rebound_to_loopback_after_the_check_never_reaches_it() -> None:
    """Public on the one lookup, loopback on the next: the image is refused, loopback unasked."""
    with _image_server() as (port, asked):
        # A public address on the loopback server's port: nothing answers there in a test.
        resolver = Rebinding("93.184.216.34", "127.0.0.1")
        cache = ImageCache(allow_private=False, resolver=resolver, timeout=0.3)
        with pytest.raises(ImageRefused):
            cache.get(f"http://badges.rebind.test:{port}/badge.png")
    assert resolver.calls == 1
    assert asked == []


def test_a_name_resolving_to_a_private_address_is_refused_before_connecting() -> None:
    """A private first answer is refused at once: no connection, and the reason names it."""
    with _image_server() as (port, asked):
        resolver = Rebinding("10.0.0.1", "127.0.0.1")
        cache = ImageCache(allow_private=False, resolver=resolver, timeout=0.3)
        with pytest.raises(ImageRefused, match="private"):
            cache.get(f"http://badges.rebind.test:{port}/badge.png")
    assert resolver.calls == 1
    assert asked == []


def test_the_image_is_fetched_from_the_address_checked_once() -> None:
    """With private addresses allowed, the image comes from the first answer, asked once."""
    with _image_server() as (port, asked):
        resolver = Rebinding("127.0.0.1", "127.0.0.2")
        cache = ImageCache(allow_private=True, resolver=resolver)
        url = f"http://badges.rebind.test:{port}/badge.png"
        assert cache.get(url) == ("image/png", PNG)
        assert cache.get(url) == ("image/png", PNG)  # cached: no second lookup or fetch
    assert resolver.calls == 1
    assert asked == ["/badge.png"]
