"""The issuing side that backpacks read from: Open Badges 2.0 JSON and its hosted endpoints.

* Builders (pure): :func:`build_issuer`, :func:`build_badge_class`, :func:`build_assertion`,
  :func:`build_endorsement`, :func:`build_revocation_list`, :func:`build_revoked_assertion`.
* :class:`IssuerDocuments` reads the registry of a store transaction and builds the documents.
* :func:`create_issuer_app` serves them (ASGI, FastAPI) under the layout of :class:`IssuerUrls`.
* Open Badges 3.0: :class:`CredentialIssuer` signs awards as OpenBadgeCredentials (keys made on
  demand and sealed in the store, ``did:web`` or ``did:key``), from the pure
  :func:`build_ob3_credential`; the app serves them with the issuers' DID documents.
* :func:`expand_offline` expands a document with the shipped OB 2.0 context and reports any
  property that expansion dropped.

The registry itself (issuers, badge classes, awards) lives in the store: ``tx.issuers``,
``tx.badge_classes``, ``tx.awards``.
"""

import typing

from openbackpack import _lazy

if typing.TYPE_CHECKING:
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
    from openbackpack.issuer._ob3 import CredentialFormat, CredentialIssuer, DidMethod
    from openbackpack.issuer._ob3_build import (
        StatusEntry,
        build_ob3_credential,
        build_ob3_endorsement,
        build_ob3_profile,
        ob3_credential_id,
    )
    from openbackpack.issuer._status_cache import SignedListCache
    from openbackpack.issuer._urls import IssuerUrls


__all__ = [
    "JSON_LD",
    "OB2_CONTEXT_URLS",
    "CredentialFormat",
    "CredentialIssuer",
    "DidMethod",
    "Expansion",
    "IssuerDocuments",
    "IssuerUrls",
    "SignedListCache",
    "StatusEntry",
    "build_assertion",
    "build_badge_class",
    "build_endorsement",
    "build_issuer",
    "build_ob3_credential",
    "build_ob3_endorsement",
    "build_ob3_profile",
    "build_revocation_list",
    "build_revoked_assertion",
    "create_issuer_app",
    "expand_offline",
    "ob3_credential_id",
    "offline_document_loader",
]

__getattr__, __dir__ = _lazy.lazy_exports(__name__, __file__)
