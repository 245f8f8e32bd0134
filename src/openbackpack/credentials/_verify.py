"""``verify_credential``: every check of an OB 3.0 credential, in one report.

The order matters: the proof is checked first, and the checks that act on the credential's
content (dates, status, recipient) read the graph the proof covers. A credential whose proof
did not verify gets those checks as "could not be checked: nothing is verified".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pyld import jsonld

from openbackpack._exceptions import DocumentUnavailableError, InvalidCredentialError
from openbackpack._jsonld_lock import JSONLD_LOCK
from openbackpack._jsonld_processor import MemoProcessor
from openbackpack.credentials._checks import (
    check_context,
    check_credential_schemas,
    check_dates,
    check_recipient,
    check_schema,
    check_type,
)
from openbackpack.credentials._ecdsa_sd import SD_CRYPTOSUITE
from openbackpack.credentials._integrity import (
    canonicalize,
    describe_unsupported,
    is_supported_proof,
    verify_data_integrity_proof,
)
from openbackpack.credentials._jwt import read_jwt, verify_vc_jwt
from openbackpack.credentials._loader import DocumentLoader, refuse_inline_contexts
from openbackpack.credentials._report import CheckOutcome, Outcome, VerificationReport
from openbackpack.credentials._resolve import KeyUnresolvableError, resolve_verification_method
from openbackpack.credentials._signed import SignedGraph
from openbackpack.credentials._status import check_status

__all__ = ["Verifier"]

_CONTENT_CHECKS = ("validity dates", "status")


def _issuer_id(document: Mapping[str, Any]) -> str | None:
    issuer = document.get("issuer")
    value = issuer.get("id") if isinstance(issuer, dict) else issuer
    return value if isinstance(value, str) else None


def _document_id(document: Mapping[str, Any]) -> str | None:
    value = document.get("id")
    return value if isinstance(value, str) else None


def _kind_of(document: Mapping[str, Any]) -> str:
    types = document.get("type")
    names = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    if "EndorsementCredential" in names:
        return "endorsement"
    if "BitstringStatusListCredential" in names:
        return "status list"
    return "credential"


class Verifier:
    """Verifies credentials with one loader, one clock and optionally one recipient."""

    def __init__(
        self, loader: DocumentLoader, *, now: datetime | None = None, recipient: str | None = None
    ) -> None:
        self.loader = loader
        self.now = now or datetime.now(UTC)
        self.recipient = recipient

    def document(
        self, document: dict[str, Any], *, kind: str | None = None, nested: bool = False
    ) -> VerificationReport:
        """Verify a credential with embedded proofs (Data Integrity)."""
        kind = kind or _kind_of(document)
        report = VerificationReport(kind=kind)
        if not self._structure(report, document, kind):
            return report
        graph = self._proofs(report, document)
        self._content(report, document, graph, kind, nested=nested)
        return report

    def jwt(self, token: str) -> VerificationReport:
        """Verify a VC-JWT: the JWS signature, then the credential in its payload."""
        report = VerificationReport(kind="credential")
        try:
            parts = read_jwt(token)
        except InvalidCredentialError as exc:
            report.failed("format", str(exc))
            return report
        document = parts.credential
        report.kind = _kind_of(document)
        if not self._structure(report, document, report.kind):
            return report
        key: Any = parts.embedded_key
        if key is not None:
            report.passed("issuer key", "the jwk in the JWT header (not bound to the issuer)")
        elif parts.kid is None:
            report.failed("issuer key", "the JWT header names no key (neither jwk nor kid)")
            self._unverified(report)
            return report
        else:
            key = self._resolve(report, parts.kid, _issuer_id(document))
            if key is None:
                self._unverified(report)
                return report
        try:
            _, signed = verify_vc_jwt(token, key)
        except InvalidCredentialError as exc:
            report.failed("proof", str(exc))
            self._unverified(report)
            return report
        report.passed("proof", f"VC-JWT signature ({parts.header.get('alg')})")
        report.credential = signed
        graph = self._graph(report, signed)
        self._content(report, signed, graph, report.kind, nested=False)
        return report

    def _structure(self, report: VerificationReport, document: dict[str, Any], kind: str) -> bool:
        try:
            refuse_inline_contexts(document)
        except InvalidCredentialError as exc:
            report.failed("context", str(exc))
            return False
        # A wrong context or type is reported, and the other checks still run: the report
        # should say everything that is wrong, not only the first thing.
        check_context(report, document, kind)
        check_type(report, document, kind)
        return True

    def _resolve(self, report: VerificationReport, method: object, issuer: str | None) -> Any:
        try:
            resolved = resolve_verification_method(method, issuer, self.loader)
        except InvalidCredentialError as exc:
            report.failed("issuer key", str(exc))
            return None
        except KeyUnresolvableError as exc:
            report.not_checked("issuer key", str(exc))
            return None
        if resolved.warning is not None and resolved.warning not in report.warnings:
            report.warnings.append(resolved.warning)
        if resolved.bound:
            report.passed("issuer key", f"{method}: {resolved.how}")
        else:
            report.not_checked("issuer key", f"{method}: {resolved.how}")
        return resolved.key

    def _proofs(self, report: VerificationReport, document: dict[str, Any]) -> SignedGraph | None:
        proofs = document.get("proof")
        proofs = [proofs] if isinstance(proofs, dict) else proofs or []
        if not proofs:
            report.failed("proof", "the credential has no embedded proof")
            return None
        graph: SignedGraph | None = None
        for proof in proofs:
            if not isinstance(proof, dict):
                report.failed("proof", "a proof is not an object")
            elif not is_supported_proof(proof):
                self._unsupported(report, document, proof)
            else:
                graph = self._one_proof(report, document, proof) or graph
        return graph

    def _unsupported(
        self, report: VerificationReport, document: dict[str, Any], proof: dict[str, Any]
    ) -> None:
        suite = f"{proof.get('type')!r} / {proof.get('cryptosuite')!r}"
        options = {**proof, "@context": document.get("@context")}
        dropped: list[str] = []
        try:
            with JSONLD_LOCK:
                MemoProcessor(on_property_dropped=lambda name: dropped.append(str(name))).expand(
                    options, {"documentLoader": self.loader}
                )
        except (jsonld.JsonLdError, ValueError) as exc:
            report.not_checked("proof", f"the proof {suite} cannot be read: {exc}")
            return
        if dropped:
            # A proof whose own terms the contexts do not define (its type-scoped context is
            # missing) is not a proof of any suite: nothing could check it, ever.
            report.failed("proof", f"the proof {suite} uses undefined terms: {sorted(dropped)}")
            return
        report.not_checked("proof", describe_unsupported(proof))

    def _one_proof(
        self, report: VerificationReport, document: dict[str, Any], proof: dict[str, Any]
    ) -> SignedGraph | None:
        key = self._resolve(report, proof.get("verificationMethod"), _issuer_id(document))
        if key is None:
            return None
        if proof.get("cryptosuite") == "eddsa-2022" or proof.get("type") != "DataIntegrityProof":
            report.warnings.append(
                f"legacy proof suite {proof.get('cryptosuite') or proof['type']}"
            )
        try:
            canonical = verify_data_integrity_proof(document, proof, key, self.loader)
        except InvalidCredentialError as exc:
            report.failed("proof", str(exc))
            return None
        except DocumentUnavailableError as exc:
            report.not_checked("proof", f"a context is unavailable: {exc}")
            return None
        suite = proof.get("cryptosuite") or proof.get("type")
        if suite == SD_CRYPTOSUITE:
            report.passed("proof", f"{suite} verifies (a derived proof: what it discloses)")
        else:
            report.passed("proof", f"{suite} verifies")
        report.credential = document
        return SignedGraph(canonical.document, _document_id(document))

    def _graph(self, report: VerificationReport, signed: dict[str, Any]) -> SignedGraph | None:
        try:
            return SignedGraph(canonicalize(signed, self.loader), _document_id(signed))
        except (InvalidCredentialError, DocumentUnavailableError) as exc:
            report.not_checked("json-ld", f"the signed payload cannot be read as JSON-LD: {exc}")
            return None

    def _unverified(self, report: VerificationReport) -> None:
        for name in _CONTENT_CHECKS:
            report.not_checked(name, "nothing verified to read it from")

    def _content(
        self,
        report: VerificationReport,
        document: dict[str, Any],
        graph: SignedGraph | None,
        kind: str,
        *,
        nested: bool,
    ) -> None:
        if kind != "status list":
            known = check_schema(report, document, kind)
            check_credential_schemas(report, document, self.loader, known=known)
        if kind == "credential":
            self._endorsements(report, document)
        if graph is None or graph.root is None:
            self._unverified(report)
            return
        check_dates(report, graph, self.now)
        if kind != "status list":
            credential_id = graph.root.get("@id")
            check_status(
                report,
                graph,
                credential_id if isinstance(credential_id, str) else None,
                self.loader,
                lambda doc: self.document(doc, kind="status list", nested=True),
            )
        if self.recipient is not None and kind == "credential" and not nested:
            check_recipient(report, graph, self.recipient)

    def _endorsements(self, report: VerificationReport, document: dict[str, Any]) -> None:
        subject = document.get("credentialSubject")
        achievement = subject.get("achievement") if isinstance(subject, dict) else None
        found: list[Any] = list(document.get("endorsement") or [])
        if isinstance(achievement, dict):
            found += list(achievement.get("endorsement") or [])
        for index, endorsement in enumerate(found):
            if not isinstance(endorsement, dict):
                report.failed("endorsements", f"endorsement {index} is not an object")
                continue
            nested = self.document(endorsement, kind="endorsement", nested=True)
            outcome = nested.outcome
            detail = "; ".join(
                f"{c.name}: {c.reason}"
                for c in nested.checks
                if c.outcome is not CheckOutcome.PASSED
            )
            if outcome is Outcome.VALID:
                report.passed("endorsements", f"endorsement {index} verifies")
            elif outcome is Outcome.INVALID:
                report.failed("endorsements", f"endorsement {index} is invalid ({detail})")
            else:
                report.not_checked("endorsements", f"endorsement {index}: {detail}")
