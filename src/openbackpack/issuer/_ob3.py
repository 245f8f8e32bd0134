"""Signed Open Badges 3.0 documents of one registry: credentials, DID documents, keys.

Keys are made on demand: the first credential an issuer signs generates its Ed25519 key pair,
whose private half goes into the store sealed. :meth:`CredentialIssuer.rotate_key` retires the
active key (the DID document keeps listing it, so what it signed still verifies) and makes a
new one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Literal

from openbackpack._exceptions import InvalidCredentialError, InvalidInputError
from openbackpack.credentials import (
    DocumentLoader,
    KeyPair,
    did_key,
    encode_bitstring,
    sign_data_integrity,
    sign_vc_jwt,
)
from openbackpack.credentials._did import did_document, did_web_for
from openbackpack.issuer._build import build_assertion
from openbackpack.issuer._documents import IssuerDocuments
from openbackpack.issuer._ob3_build import build_ob3_credential, build_ob3_endorsement
from openbackpack.issuer._status_cache import SignedListCache
from openbackpack.issuer._urls import IssuerUrls
from openbackpack.models.ob3 import VC2_CONTEXT
from openbackpack.store import (
    STATUS_LIST_SIZE,
    Award,
    BadgeClass,
    Endorsement,
    Issuer,
    IssuerKey,
    KeyAlgorithmName,
    Secret,
    Transaction,
)

__all__ = ["CredentialFormat", "CredentialIssuer", "DidMethod"]

DidMethod = Literal["web", "key"]
"""How an issuer is identified in its credentials: ``did:web`` (the default) or ``did:key``."""

CredentialFormat = Literal["json", "jwt"]
"""A credential with an embedded Data Integrity proof (``json``) or as a VC-JWT (``jwt``)."""


@dataclass(frozen=True, slots=True)
class _Records:
    """What one award's documents are built from, read in one go."""

    award: Award
    badge: BadgeClass
    issuer: Issuer
    endorsements: list[Endorsement]

    @classmethod
    def read(cls, tx: Transaction, award_hash: str) -> _Records:
        award = tx.awards.get(award_hash)
        badge = tx.badge_classes.get(award.badge_class_id)
        issuer = tx.issuers.get(badge.issuer_id)
        return cls(award, badge, issuer, tx.badge_classes.endorsements(badge.id))


class CredentialIssuer:
    """Signs the registry's awards as Open Badges 3.0 credentials, inside one transaction."""

    def __init__(
        self,
        tx: Transaction,
        urls: IssuerUrls,
        *,
        did_method: DidMethod = "web",
        loader: DocumentLoader | None = None,
    ) -> None:
        self._tx = tx
        self.urls = urls
        self.did_method = did_method
        self._loader = loader or DocumentLoader()
        # Each key unsealed once per transaction: a signing asks for it three times (the
        # status list's key, the did:key, the proof), and unsealing costs more than signing.
        self._keys: dict[tuple[int, KeyAlgorithmName], tuple[IssuerKey, KeyPair]] = {}

    def issuer_did(self, issuer_id: int) -> str:
        """The issuer's DID (did:key names its active key, so it changes with rotation)."""
        if self.did_method == "key":
            return did_key(self.signing_key(issuer_id)[1].public_key)
        return did_web_for(self.urls.issuer_did_location(issuer_id))

    def signing_key(
        self, issuer_id: int, algorithm: KeyAlgorithmName = "Ed25519"
    ) -> tuple[IssuerKey, KeyPair]:
        """The issuer's active key of ``algorithm``, generated (and sealed) if it has none."""
        held = self._keys.get((issuer_id, algorithm))
        if held is not None:
            return held
        record = self._tx.issuer_keys.active(issuer_id, algorithm)
        if record is None:
            return self.rotate_key(issuer_id, algorithm)
        held = record, KeyPair.from_pem(record.private_key.reveal().encode())
        self._keys[(issuer_id, algorithm)] = held
        return held

    def rotate_key(
        self, issuer_id: int, algorithm: KeyAlgorithmName = "Ed25519"
    ) -> tuple[IssuerKey, KeyPair]:
        """Retire the issuer's active key of ``algorithm`` (if any) and make a new one."""
        pair = KeyPair.generate(algorithm)
        record = self._tx.issuer_keys.add(
            issuer_id, algorithm, pair.multikey, Secret(pair.private_pem().decode())
        )
        self._keys[(issuer_id, algorithm)] = record, pair
        return record, pair

    def verification_method(self, issuer_id: int, key: IssuerKey) -> str:
        """The id of ``key`` as a verification method of the issuer's DID."""
        if self.did_method == "key":
            return f"did:key:{key.public_multikey}#{key.public_multikey}"
        return f"{self.issuer_did(issuer_id)}#key-{key.id}"

    def did_document(self, issuer_id: int) -> dict[str, Any]:
        """The issuer's did:web DID document: every key it ever had, retired ones included."""
        self._tx.issuers.get(issuer_id)
        keys = [(f"key-{k.id}", k.public_multikey) for k in self._tx.issuer_keys.list(issuer_id)]
        return did_document(did_web_for(self.urls.issuer_did_location(issuer_id)), keys)

    def site_did_document(self) -> dict[str, Any]:
        """The site's DID document (``/.well-known/did.json``): every issuer's keys."""
        keys = [(f"key-{k.id}", k.public_multikey) for k in self._tx.issuer_keys.list()]
        return did_document(did_web_for(self.urls.base_url), keys)

    def credential(
        self,
        award_hash: str,
        *,
        fmt: CredentialFormat = "json",
        algorithm: KeyAlgorithmName = "Ed25519",
        recipient_email: str | None = None,
    ) -> dict[str, Any] | str:
        """The award's OpenBadgeCredential, signed (eddsa-rdfc-2022, or a VC-JWT).

        ``algorithm="P-256"`` signs a VC-JWT with ES256 (Data Integrity proofs are Ed25519).
        ``recipient_email`` makes it out to another address than the award's (the award
        owner's backpack email), as a copy with an id of its own.

        Raises:
            RecordNotFoundError: no award has that hash.
        """
        issuer_id, document = self._unsigned(award_hash, recipient_email)
        return self.sign(issuer_id, document, fmt=fmt, algorithm=algorithm)

    def _unsigned(
        self, award_hash: str, recipient_email: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        return self._unsigned_of(_Records.read(self._tx, award_hash), recipient_email)

    def _unsigned_of(
        self, records: _Records, recipient_email: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        award, badge, issuer = records.award, records.badge, records.issuer
        endorsements = [self._endorsement(endorsement.id) for endorsement in records.endorsements]
        index = self._tx.status_entries.index_for(award, badge)
        # The status list is signed with the Ed25519 key: make it now, so that the DID
        # document a verifier reads for this credential already lists it.
        self.signing_key(issuer.id)
        return issuer.id, build_ob3_credential(
            award,
            badge,
            issuer,
            self.issuer_did(issuer.id),
            self.urls,
            endorsements=endorsements,
            status=(self.urls.status_list(issuer.id), index),
            recipient_email=recipient_email,
        )

    def reissue(
        self,
        award_hash: str,
        *,
        fmt: CredentialFormat = "json",
        algorithm: KeyAlgorithmName = "Ed25519",
        recipient_email: str | None = None,
    ) -> dict[str, Any] | str:
        """The award re-issued as a signed 3.0 credential, its 2.0 assertion as evidence.

        Like :meth:`credential`, with one more ``evidence`` entry: the original hosted
        assertion, by its URL and copied whole into the narrative, so that the credential
        still says what was first awarded once this site's hosted URLs are gone.
        ``recipient_email`` re-issues the award's copy for that address (the hosted copy,
        ``.../recipients/DIGEST``, is the evidence then), as :meth:`credential` makes it.

        Raises:
            RecordNotFoundError: no award has that hash.
            InvalidInputError: the award is revoked (it is not re-issued).
        """
        # The records are read once, for both the credential and the assertion it carries.
        records = _Records.read(self._tx, award_hash)
        if records.award.revoked:
            raise InvalidInputError(f"award {award_hash!r} is revoked; it is not re-issued")
        issuer_id, document = self._unsigned_of(records, recipient_email)
        badge_class = IssuerDocuments(self._tx, self.urls).badge_class_of(
            records.badge, records.issuer, records.endorsements, embedded=True
        )
        # The hosted assertion, or its copy for that address (build_assertion tells which).
        original = build_assertion(
            records.award, badge_class, self.urls, recipient_email=recipient_email
        ).to_json()
        copied = json.dumps(original, indent=2, sort_keys=True, ensure_ascii=False)
        document.setdefault("evidence", []).append(
            {
                "id": original["id"],
                "type": ["Evidence"],
                "name": "Original Open Badges 2.0 assertion",
                "genre": "Open Badges 2.0 assertion",
                "description": "The award as this site first issued it, as a hosted assertion.",
                "narrative": f"```json\n{copied}\n```",
            }
        )
        return self.sign(issuer_id, document, fmt=fmt, algorithm=algorithm)

    def sign(
        self,
        issuer_id: int,
        document: dict[str, Any],
        *,
        fmt: CredentialFormat = "json",
        algorithm: KeyAlgorithmName = "Ed25519",
    ) -> dict[str, Any] | str:
        """Sign ``document`` with the issuer's active key of ``algorithm``.

        Raises:
            InvalidCredentialError: a P-256 key asked for a Data Integrity proof.
        """
        if fmt == "jwt":
            record, pair = self.signing_key(issuer_id, algorithm)
            return sign_vc_jwt(document, pair, self.verification_method(issuer_id, record))
        if algorithm != "Ed25519":
            raise InvalidCredentialError("eddsa-rdfc-2022 proofs are signed with Ed25519 keys")
        record, pair = self.signing_key(issuer_id)
        method = self.verification_method(issuer_id, record)
        return sign_data_integrity(document, pair, method, self._loader)

    def status_list(
        self,
        issuer_id: int,
        *,
        cache: SignedListCache | None = None,
        ttl: float | None = None,
    ) -> dict[str, Any]:
        """The issuer's signed BitstringStatusList credential (revocation), 131,072 entries.

        With ``cache``, a list signed before from the same revoked awards, with the same key,
        is given again instead of being signed anew. ``ttl`` (seconds) is how long verifiers
        may rely on the list before fetching it again (its ``ttl``, in milliseconds); without
        it the list states none, and a verifier fetches it for every credential.

        Raises:
            InvalidInputError: a ``ttl`` that is not a positive number of seconds.
        """
        if ttl is not None and not ttl > 0:
            raise InvalidInputError(f"a status list's ttl must be > 0 seconds, not {ttl}")
        ttl_ms = None if ttl is None else max(1, round(ttl * 1000))
        revoked = tuple(self._tx.status_entries.revoked_indexes(issuer_id))
        # Only the active key's id is needed to know whether a kept list still holds: the
        # private key is unsealed when the list is signed, not for every fetch of it.
        key_record = self._tx.issuer_keys.active(issuer_id, "Ed25519")
        if cache is None:
            return self._sign_status_list(issuer_id, revoked, ttl_ms)
        if key_record is None:
            # No key yet: make it now, so that this first list is kept like any other (two
            # signings a second apart differ in their proof's `created`).
            key_record = self.signing_key(issuer_id)[0]
        made_from = (self.urls.base_url, self.did_method, issuer_id, key_record.id, revoked, ttl_ms)
        return cache.get_or_sign(
            made_from, lambda: self._sign_status_list(issuer_id, revoked, ttl_ms)
        )

    def _sign_status_list(
        self, issuer_id: int, revoked: tuple[int, ...], ttl_ms: int | None
    ) -> dict[str, Any]:
        issuer = self._tx.issuers.get(issuer_id)
        bits = bytearray(STATUS_LIST_SIZE // 8)
        for index in revoked:
            bits[index // 8] |= 0x80 >> (index % 8)
        url = self.urls.status_list(issuer_id)
        subject: dict[str, Any] = {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_bitstring(bytes(bits)),
        }
        if ttl_ms is not None:
            subject["ttl"] = ttl_ms
        document = {
            "@context": [VC2_CONTEXT],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": self.issuer_did(issuer_id),
            # A fixed past start (the issuer's creation): a list stamped "now" could start a
            # moment after the verifier's clock reading and be refused as not yet valid.
            "validFrom": issuer.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "credentialSubject": subject,
        }
        signed = self.sign(issuer_id, document)
        assert isinstance(signed, dict)
        return signed

    def _endorsement(self, endorsement_id: int) -> dict[str, Any]:
        endorsement = self._tx.badge_classes.endorsement(endorsement_id)
        endorser = self._tx.issuers.get(endorsement.endorser_id)
        document = build_ob3_endorsement(
            endorsement,
            endorser,
            self.issuer_did(endorser.id),
            self.urls.badge(endorsement.badge_class_id),
            self.urls,
        )
        signed = self.sign(endorser.id, document)
        assert isinstance(signed, dict)
        return signed
