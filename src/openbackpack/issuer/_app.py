"""The hosted Open Badges endpoints as an ASGI app (what backpacks fetch to verify a badge).

Moodle's ``assertion.php``, ``badge_json.php``, ``issuer_json.php`` and ``endorsement_json.php``
become one small FastAPI app with the URL layout of :mod:`openbackpack.issuer._urls`. Unlike
Moodle, a revoked assertion's 410 body carries ``revocationReason``, issuers publish a
revocation list, and images are served with their real content type.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from openbackpack._exceptions import InvalidInputError, RecordNotFoundError
from openbackpack._loop_twin import loop_twin
from openbackpack.issuer._documents import IssuerDocuments
from openbackpack.issuer._ob3 import CredentialIssuer, DidMethod
from openbackpack.issuer._status_cache import SignedListCache
from openbackpack.issuer._urls import (
    ASSERTION_COPY_PATH,
    ASSERTION_PATH,
    BADGE_IMAGE_PATH,
    BADGE_PATH,
    CREDENTIAL_PATH,
    ENDORSEMENT_PATH,
    ISSUER_DID_PATH,
    ISSUER_IMAGE_PATH,
    ISSUER_PATH,
    REVOCATIONS_PATH,
    STATUS_LIST_PATH,
    IssuerUrls,
)
from openbackpack.models import ob2
from openbackpack.store import Store

__all__ = ["JSON_LD", "create_issuer_app"]

JSON_LD: Final = "application/ld+json"
STATUS_LIST_TTL: Final = 60.0
"""Seconds a served status list says verifiers may rely on it (a revocation's longest delay)."""
# Hosted documents are public and read by browser-based displayers too.
_PUBLIC_HEADERS: Final = {"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}
# An SVG can carry scripts; served as a document it must not be able to run them.
_IMAGE_HEADERS: Final = {**_PUBLIC_HEADERS, "Content-Security-Policy": "default-src 'none'"}


def create_issuer_app(
    store: Store,
    base_url: str,
    *,
    did_method: DidMethod = "web",
    status_list_ttl: float | None = STATUS_LIST_TTL,
) -> FastAPI:
    """Return the hosted-badge app over ``store``, whose document ids start with ``base_url``.

    Beside the Open Badges 2.0 documents it serves each award's signed 3.0 credential, the
    issuers' DID documents (``did_method`` says how credentials name their issuer) and status
    lists. Each status list states ``status_list_ttl`` (seconds; None for none): how long a
    verifier may rely on it before fetching it again, so how long a revocation may take to
    reach verifiers that keep lists (:class:`~openbackpack.credentials.StatusListCache`).

    Raises:
        InvalidInputError: a ``status_list_ttl`` that is not a positive number.

    ``base_url`` is the app's public root: mounted at ``/issuer`` inside a host reachable at
    ``https://lms.example.org``, it is ``https://lms.example.org/issuer``. Building the app
    touches neither the network nor the database.
    """
    if status_list_ttl is not None and not status_list_ttl > 0:
        raise InvalidInputError(f"status_list_ttl must be > 0 seconds, not {status_list_ttl}")
    urls = IssuerUrls(base_url)
    app = FastAPI(title="openbackpack issuer", docs_url=None, redoc_url=None)

    @contextmanager
    def documents() -> Iterator[IssuerDocuments]:
        with store.transaction() as tx:
            yield IssuerDocuments(tx, urls)

    def ld(fetch: Callable[[IssuerDocuments], ob2.Ob2Model], request: Request) -> Response:
        with documents() as docs:
            document = fetch(docs)
        return _ld_response(document, request)

    served = _document_serving(store)

    @app.get(ASSERTION_PATH, summary="Assertion (410 when revoked or unknown)")
    @served
    def assertion(award_hash: str, request: Request) -> Response:
        with documents() as docs:
            document = docs.hosted_assertion(award_hash)
        gone = isinstance(document, ob2.RevokedAssertion)
        return _ld_response(document, request, status_code=410 if gone else 200)

    @app.get(ASSERTION_COPY_PATH, summary="Assertion copy for the owner's backpack email")
    @served
    def assertion_copy(award_hash: str, digest: str, request: Request) -> Response:
        with documents() as docs:
            document = docs.hosted_copy(award_hash, digest)
        gone = isinstance(document, ob2.RevokedAssertion)
        return _ld_response(document, request, status_code=410 if gone else 200)

    @app.get(BADGE_PATH, summary="BadgeClass")
    @served
    def badge(badge_id: int, request: Request) -> Response:
        return ld(lambda docs: docs.badge_class(badge_id), request)

    @app.get(ISSUER_PATH, summary="Issuer profile")
    @served
    def issuer(issuer_id: int, request: Request) -> Response:
        return ld(lambda docs: docs.issuer(issuer_id), request)

    @app.get(REVOCATIONS_PATH, summary="RevocationList of an issuer")
    @served
    def revocations(issuer_id: int, request: Request) -> Response:
        return ld(lambda docs: docs.revocation_list(issuer_id), request)

    @app.get(ENDORSEMENT_PATH, summary="Endorsement")
    @served
    def endorsement(endorsement_id: int, request: Request) -> Response:
        return ld(lambda docs: docs.endorsement(endorsement_id), request)

    @app.get(BADGE_IMAGE_PATH, summary="Badge image (PNG or SVG)")
    @served
    def badge_image(badge_id: int) -> Response:
        with documents() as docs:
            data, media_type = docs.image("badge", badge_id)
        return Response(data, media_type=media_type, headers=_IMAGE_HEADERS)

    @app.get(ISSUER_IMAGE_PATH, summary="Issuer image (PNG or SVG)")
    @served
    def issuer_image(issuer_id: int) -> Response:
        with documents() as docs:
            data, media_type = docs.image("issuer", issuer_id)
        return Response(data, media_type=media_type, headers=_IMAGE_HEADERS)

    _add_ob3_routes(app, store, urls, did_method, status_list_ttl)
    app.add_exception_handler(RecordNotFoundError, _not_found)
    return app


def _add_ob3_routes(
    app: FastAPI,
    store: Store,
    urls: IssuerUrls,
    did_method: DidMethod,
    status_list_ttl: float | None,
) -> None:
    @contextmanager
    def issuing() -> Iterator[CredentialIssuer]:
        with store.transaction() as tx:
            yield CredentialIssuer(tx, urls, did_method=did_method)

    def json_ld(document: object) -> Response:
        body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        return Response(body, media_type=JSON_LD, headers=_PUBLIC_HEADERS)

    @app.get(CREDENTIAL_PATH, summary="Open Badges 3.0 credential of an award (signed)")
    def credential(award_hash: str) -> Response:
        with issuing() as issuer:
            return json_ld(issuer.credential(award_hash))

    signed_lists = SignedListCache()

    @app.get(STATUS_LIST_PATH, summary="BitstringStatusList credential of an issuer (signed)")
    def status_list(issuer_id: int) -> Response:
        with issuing() as issuer:
            return json_ld(issuer.status_list(issuer_id, cache=signed_lists, ttl=status_list_ttl))

    @app.get(ISSUER_DID_PATH, summary="DID document of an issuer's did:web")
    def issuer_did(issuer_id: int) -> Response:
        with issuing() as issuer:
            return json_ld(issuer.did_document(issuer_id))

    # The site's own did:web resolves to /.well-known/did.json at a domain's root, and to
    # /did.json under a path; the app cannot know where it is mounted, so it answers both.
    @app.get("/.well-known/did.json", summary="DID document of the site (every issuer's keys)")
    @app.get("/did.json", include_in_schema=False)
    def site_did() -> Response:
        with issuing() as issuer:
            return json_ld(issuer.site_did_document())


def _document_serving(store: Store) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """How the 2.0 document and image handlers are registered, by the store's database.

    Each is a few reads of the store and a rendered answer. On SQLite (a local file, whose
    WAL readers never wait for a writer) they run on the event loop: handing each request to
    a worker thread and back cost more CPU than the work, a third of the request. On a
    database across a network they stay in worker threads, so that one request's round trips
    to it do not hold up every other.
    """
    if store.engine.dialect.name == "sqlite":
        return loop_twin
    return lambda handler: handler


def _media_type(request: Request) -> str:
    """Answer ``application/json`` only to clients that accept it and not JSON-LD."""
    accepted = {
        part.split(";", 1)[0].strip().lower()
        for part in request.headers.get("accept", "").split(",")
    }
    if "application/json" in accepted and not accepted & {JSON_LD, "*/*", "application/*"}:
        return "application/json"
    return JSON_LD


def _ld_response(document: ob2.Ob2Model, request: Request, status_code: int = 200) -> Response:
    # Compact: json's C encoder does not indent, and indenting took a tenth of a request's CPU.
    body = json.dumps(document.to_json(), ensure_ascii=False, separators=(",", ":")).encode()
    return Response(
        body,
        status_code=status_code,
        media_type=_media_type(request),
        headers=_PUBLIC_HEADERS,
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=404, headers=_PUBLIC_HEADERS)
