"""An Open Badges 3.0 account's badges, each verified, and pushing an award there.

Reading: every credential of the account (``getCredentials``, all pages) is verified with
:func:`openbackpack.credentials.verify_credential` against the account's email, and shown
with the verifier's report. What is shown is read from the verified data when a proof
verified, and from the document as sent otherwise (its report then says it is not valid).
The document loader is offline: it knows the shipped contexts and, when
``OPENBACKPACK_DOCUMENT_MAP`` names a document map file, the files it lists; nothing is
fetched from the network, so a DID document or status list that is not mapped is "could not
be checked".

Pushing: the award becomes a signed OpenBadgeCredential (``CredentialIssuer``) sent with
``upsertCredential`` under a claim of the bulk push, so one worker in any process sends it;
after a lost answer (or a crash) the credentials are read back and ours adopted. The host's
upsert is keyed by the credential's ``id``: a repeat replaces, never duplicates.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, Literal

from openbackpack.api import Ob3Api
from openbackpack.api._ob3_core import Credential
from openbackpack.client import BackpackClient
from openbackpack.credentials import (
    CheckOutcome,
    DocumentLoader,
    VerificationReport,
    load_document_map,
    read_jwt,
    verify_credential,
)
from openbackpack.issuer import CredentialIssuer, IssuerUrls
from openbackpack.services._bc_badges import iso_date
from openbackpack.services._claiming import claimed_create, in_transaction
from openbackpack.store import BackpackAccount, IdentifierKind, Provider, Store

__all__ = ["DOCUMENT_MAP_ENV", "Ob3Push", "ob3_views", "offline_loader", "push_credential"]

DOCUMENT_MAP_ENV: Final = "OPENBACKPACK_DOCUMENT_MAP"
"""Names a document map file (URL -> local file) the verifier of external badges may read."""

Ob3Outcome = Literal["created", "updated", "adopted", "skipped"]


def offline_loader() -> DocumentLoader:
    """The verifier's loader: shipped contexts, plus the document map the settings name."""
    path = os.environ.get(DOCUMENT_MAP_ENV, "").strip()
    return DocumentLoader(load_document_map(Path(path)) if path else None)


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _id(value: Any) -> str | None:
    found = value.get("id") if isinstance(value, Mapping) else value
    return found if isinstance(found, str) else None


def _document(item: Credential, report: VerificationReport) -> Mapping[str, Any]:
    if report.credential is not None:
        return report.credential
    if isinstance(item, str):
        try:
            return read_jwt(item).credential
        except ValueError:
            return {}
    return item


def _view(item: Credential, report: VerificationReport, provider_id: int) -> dict[str, Any]:
    document = _document(item, report)
    subject = _object(document.get("credentialSubject"))
    achievement = _object(subject.get("achievement"))
    issuer = _object(document.get("issuer"))
    criteria = _object(achievement.get("criteria"))
    recipient = report.check("recipient")
    return {
        "assertion_id": _id(document) or "",
        "provider_id": provider_id,
        "collection_id": "",
        "name": achievement.get("name") or document.get("name"),
        "description": achievement.get("description") or document.get("description"),
        "image": _id(achievement.get("image")),
        "issuer_name": issuer.get("name"),
        "issuer_url": issuer.get("url"),
        "issuer_email": issuer.get("email"),
        "issued_on": iso_date(document.get("validFrom") or document.get("issuanceDate")),
        "expires": iso_date(document.get("validUntil") or document.get("expirationDate")),
        "hosted_url": _id(document),
        "criteria_url": _id(criteria),
        "criteria_narrative": criteria.get("narrative"),
        "recipient_verified": recipient is not None and recipient.outcome is CheckOutcome.PASSED,
        "recipient_check": recipient.reason if recipient is not None else "not checked",
        "verification": report.to_json(),
    }


def ob3_views(
    api: Ob3Api, account: BackpackAccount, loader: DocumentLoader | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """The account's credentials as view fields, each with its verification report.

    A credential that does not verify is still shown, with its report saying why; the second
    list (failures to read) is empty, kept for the shape the other generations share.
    """
    chosen = loader if loader is not None else offline_loader()
    views = []
    for item in api.get_credentials():
        report = verify_credential(item, loader=chosen, recipient=account.email)
        views.append(_view(item, report, api.provider.id))
    return views, []


class Ob3Push:
    """What one award's push to a 3.0 account did, for the push report."""

    def __init__(self, credential_id: str, outcome: Ob3Outcome) -> None:
        self.credential_id = credential_id
        self.outcome = outcome


def _credential(store: Store, urls: IssuerUrls, award_hash: str) -> dict[str, Any]:
    def sign(tx: Any) -> dict[str, Any]:
        signed = CredentialIssuer(tx, urls).credential(award_hash)
        assert isinstance(signed, dict)
        return signed

    return in_transaction(store, sign)


def _ours(items: Iterable[Credential], credential_id: str) -> list[str]:
    found = []
    for item in items:
        document: Mapping[str, Any] = item if isinstance(item, Mapping) else {}
        if isinstance(item, str):
            try:
                document = read_jwt(item).credential
            except ValueError:
                continue
        if document.get("id") == credential_id:
            found.append(credential_id)
    return found


def push_credential(
    store: Store,
    provider: Provider,
    account: BackpackAccount,
    award_hash: str,
    *,
    key: str,
    holder: str,
    urls: IssuerUrls,
    client: BackpackClient | None,
    refresh: bool,
) -> Ob3Push:
    """Upsert the award's signed credential into the account, created at most once.

    ``key`` is the award's mapping key for this account. Pushed before and not ``refresh``:
    nothing is sent (``skipped``). Else the claim makes one worker send it; ``created`` is a
    201, ``updated`` a 200 (the host had it: a repeat replaces), ``adopted`` a credential
    found on reading back after a lost answer or a crash.
    """
    credential_id = urls.credential(award_hash)
    mapped = in_transaction(
        store, lambda tx: tx.identifiers.get(provider.id, IdentifierKind.ASSERTION, key)
    )
    if mapped is not None and not refresh:
        # A resume costs nothing for what is done: no signing, no request.
        return Ob3Push(credential_id, "skipped")
    credential = _credential(store, urls, award_hash)
    with Ob3Api(provider, account, store=store, client=client) as api:
        if mapped is not None:
            result = api.upsert_credential(credential)
            return Ob3Push(credential_id, "created" if result.created else "updated")
        created: list[bool] = []

        def upsert() -> str:
            created.append(api.upsert_credential(credential).created)
            return credential_id

        def find() -> list[str]:
            return _ours(api.get_credentials(), credential_id)

        _, how = claimed_create(
            store, provider.id, IdentifierKind.ASSERTION, key, holder, upsert, find
        )
    if how == "adopted":
        return Ob3Push(credential_id, "adopted")
    if how == "existing" or (created and not created[-1]):
        return Ob3Push(credential_id, "updated" if created else "skipped")
    return Ob3Push(credential_id, "created")
