"""The issuing side that backpacks read from: Open Badges 2.0 JSON and its hosted endpoints.

* Builders (pure): :func:`build_issuer`, :func:`build_badge_class`, :func:`build_assertion`,
  :func:`build_endorsement`, :func:`build_revocation_list`, :func:`build_revoked_assertion`.
* :class:`IssuerDocuments` reads the registry of a store transaction and builds the documents.
* :func:`create_issuer_app` serves them (ASGI, FastAPI) under the layout of :class:`IssuerUrls`.
* :func:`expand_offline` expands a document with the shipped OB 2.0 context and reports any
  property that expansion dropped.

The registry itself (issuers, badge classes, awards) lives in the store: ``tx.issuers``,
``tx.badge_classes``, ``tx.awards``.
"""

from openbackpack.issuer._app import JSON_LD, create_issuer_app
from openbackpack.issuer._build import (
    build_assertion,
    build_badge_class,
    build_endorsement,
    build_issuer,
    build_revocation_list,
    build_revoked_assertion,
)
from openbackpack.issuer._documents import IssuerDocuments
from openbackpack.issuer._jsonld import (
    OB2_CONTEXT_URLS,
    Expansion,
    expand_offline,
    offline_document_loader,
)
from openbackpack.issuer._urls import IssuerUrls

__all__ = [
    "JSON_LD",
    "OB2_CONTEXT_URLS",
    "Expansion",
    "IssuerDocuments",
    "IssuerUrls",
    "build_assertion",
    "build_badge_class",
    "build_endorsement",
    "build_issuer",
    "build_revocation_list",
    "build_revoked_assertion",
    "create_issuer_app",
    "expand_offline",
    "offline_document_loader",
]
