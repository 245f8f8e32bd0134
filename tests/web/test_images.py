"""Badge images: fetched by the server under the import rules, served from the app itself."""

from __future__ import annotations

import re

from openbackpack.client import BackpackClient
from openbackpack.services import push_award, select_collections
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
