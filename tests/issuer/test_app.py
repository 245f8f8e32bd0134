"""The hosted endpoints over real loopback HTTP: documents, 410 on revocation, images, mounting."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from openbackpack.issuer import create_issuer_app
from openbackpack.serve import base_url_of, bind_socket, serve_in_thread
from openbackpack.store import Store
from tests.registry_data import PNG, SVG, Seeded

from .conftest import LiveIssuer


def _get(url: str, **headers: str) -> httpx2.Response:
    with httpx2.Client(timeout=10) as client:
        return client.get(url, headers=headers)


def test_assertion_is_served_as_json_ld_with_its_own_url_as_id(live_issuer: LiveIssuer) -> None:
    """GET of an assertion answers 200 application/ld+json whose id is the URL fetched."""
    url = f"{live_issuer.url}/ob/assertions/{live_issuer.ids.award_hash}"
    response = _get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    assert response.headers["access-control-allow-origin"] == "*"
    data = response.json()
    assert data["id"] == url
    assert data["verification"] == {"type": "hosted", "url": url}
    assert b"\n" not in response.content  # compact, as json's C encoder writes it


def _on_a_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_2_0_documents_are_read_on_the_event_loop_on_sqlite_and_in_a_thread_otherwise(
    store: Store, live_issuer: LiveIssuer
) -> None:
    """On SQLite a hosted assertion is read on the loop, else in a thread; a credential, in one."""
    seen: list[bool] = []

    def record(*args: Any) -> None:
        seen.append(_on_a_loop())

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        assert _get(f"{live_issuer.url}/ob/assertions/{live_issuer.ids.award_hash}").is_success
        assertion, seen[:] = list(seen), []
        assert _get(f"{live_issuer.url}/ob3/credentials/{live_issuer.ids.award_hash}").is_success
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert assertion
    assert seen
    assert set(assertion) == {store.engine.dialect.name == "sqlite"}
    assert not any(seen)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        pytest.param("/ob/badges/{badge_id}", "BadgeClass", id="badge"),
        pytest.param("/ob/issuers/{issuer_id}", "Issuer", id="issuer"),
        pytest.param("/ob/issuers/{issuer_id}/revocations", "RevocationList", id="revocations"),
        pytest.param("/ob/endorsements/{endorsement_id}", "Endorsement", id="endorsement"),
    ],
)
def test_every_document_is_fetchable_at_its_id(
    live_issuer: LiveIssuer, path: str, kind: str
) -> None:
    """Each hosted document answers at its own id with its type."""
    ids = live_issuer.ids
    url = live_issuer.url + path.format(
        badge_id=ids.badge_id, issuer_id=ids.issuer_id, endorsement_id=ids.endorsement_id
    )
    response = _get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    assert response.json()["type"] == kind
    assert response.json()["id"] == url


def test_linked_documents_resolve(live_issuer: LiveIssuer) -> None:
    """Following the assertion's links (badge, issuer, image, endorsement) never hits a 404."""
    data = _get(f"{live_issuer.url}/ob/assertions/{live_issuer.ids.award_hash}").json()
    badge = data["badge"]
    for url in (
        badge["id"],
        badge["image"],
        badge["issuer"]["id"],
        badge["issuer"]["image"],
        badge["issuer"]["revocationList"],
        badge["related"][0]["id"],
        badge["endorsement"][0],
        _get(badge["endorsement"][0]).json()["issuer"],
    ):
        assert _get(url).status_code == 200, url


def test_plain_json_clients_get_application_json(live_issuer: LiveIssuer) -> None:
    """A client that accepts only application/json gets that content type."""
    url = f"{live_issuer.url}/ob/issuers/{live_issuer.ids.issuer_id}"
    assert _get(url, accept="application/json").headers["content-type"] == "application/json"
    assert _get(url, accept="application/ld+json, application/json;q=0.9").headers[
        "content-type"
    ] == ("application/ld+json")


def test_revoked_assertion_answers_410_with_the_reason(
    store: Store, live_issuer: LiveIssuer
) -> None:
    """After revocation the assertion URL answers 410 with id, revoked and revocationReason."""
    award_hash = live_issuer.ids.award_hash
    with store.transaction() as tx:
        tx.awards.revoke(award_hash, "Issued by mistake.")
    url = f"{live_issuer.url}/ob/assertions/{award_hash}"
    response = _get(url)
    assert response.status_code == 410
    assert response.headers["content-type"] == "application/ld+json"
    data = response.json()
    assert (data["id"], data["revoked"], data["revocationReason"]) == (
        url,
        True,
        "Issued by mistake.",
    )
    listing = _get(f"{live_issuer.url}/ob/issuers/{live_issuer.ids.issuer_id}/revocations").json()
    assert listing["revokedAssertions"] == [{"id": url, "revocationReason": "Issued by mistake."}]


def test_unknown_assertion_answers_410(live_issuer: LiveIssuer) -> None:
    """An assertion hash that was never issued answers 410 revoked, as Moodle does."""
    response = _get(f"{live_issuer.url}/ob/assertions/never-issued")
    assert response.status_code == 410
    assert response.json()["revoked"] is True
    assert response.json()["revocationReason"]


@pytest.mark.parametrize(
    "path",
    ["/ob/badges/999", "/ob/issuers/999", "/ob/endorsements/999", "/ob/badges/999/image",
     "/ob/issuers/999/revocations", "/ob/issuers/{endorser_id}/image"],
)  # fmt: skip
def test_unknown_documents_answer_404(live_issuer: LiveIssuer, path: str) -> None:
    """Unknown badge classes, issuers, endorsements and missing images answer 404 JSON."""
    response = _get(live_issuer.url + path.format(endorser_id=live_issuer.ids.endorser_id))
    assert response.status_code == 404
    assert "error" in response.json()


def test_images_are_served_with_their_real_content_type(live_issuer: LiveIssuer) -> None:
    """PNG and SVG images come back byte for byte with image/png and image/svg+xml."""
    ids = live_issuer.ids
    png = _get(f"{live_issuer.url}/ob/badges/{ids.badge_id}/image")
    svg = _get(f"{live_issuer.url}/ob/badges/{ids.related_id}/image")
    issuer = _get(f"{live_issuer.url}/ob/issuers/{ids.issuer_id}/image")
    assert (png.headers["content-type"], png.content) == ("image/png", PNG)
    assert (svg.headers["content-type"], svg.content) == ("image/svg+xml", SVG)
    assert (issuer.headers["content-type"], issuer.content) == ("image/png", PNG)
    assert svg.headers["content-security-policy"] == "default-src 'none'"


def test_app_can_be_mounted_inside_another_app(store: Store, seeded: Seeded) -> None:
    """Mounted under /issuer of a host app, ids carry the mount path and resolve."""
    sock = bind_socket()
    host = FastAPI()
    host.mount("/issuer", create_issuer_app(store, base_url_of(sock) + "/issuer"))
    with serve_in_thread(host, sock=sock) as url:
        assertion_url = f"{url}/issuer/ob/assertions/{seeded.award_hash}"
        data = _get(assertion_url).json()
        assert data["id"] == assertion_url
        assert _get(data["badge"]["image"]).headers["content-type"] == "image/png"


def test_building_the_app_touches_no_database(store: Store) -> None:
    """create_issuer_app only wires routes: not one SQL statement runs until a request."""
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    app = create_issuer_app(store, "https://badges.example.org")
    assert statements == []
    assert "/ob/assertions/{award_hash}" in {getattr(route, "path", "") for route in app.routes}
