"""Open Badges 2.0 verification: hosted (the issuer's copy is the truth) and signed (JWS).

Hosted: the assertion is read again at its id, and that copy is what the checks act on; its
badge class and issuer are read; the id must be on an origin the issuer allows
(``verification.allowedOrigins`` / ``startsWith``, else the issuer id's own origin); the
issuer's revocation list must not list it. Signed: the JWS verifies with the
``verification.creator`` key, which the issuer must own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from joserfc.jwk import RSAKey

from openbackpack._exceptions import DocumentUnavailableError, InvalidCredentialError
from openbackpack.credentials._jwt import read_jwt, verify_vc_jwt
from openbackpack.credentials._loader import DocumentLoader
from openbackpack.credentials._report import VerificationReport
from openbackpack.models import match_recipient

__all__ = ["OB2_CONTEXTS", "is_ob2", "verify_ob2"]

OB2_CONTEXTS: Final = frozenset(
    {"https://w3id.org/openbadges/v2", "https://openbadgespec.org/v2/context.json"}
)
_ISSUER_TYPES: Final = {"Issuer", "Profile"}
_VC_CONTEXTS: Final = ("https://www.w3.org/ns/credentials/", "https://www.w3.org/2018/credentials/")
_OB2_PREFIXES: Final = ("https://w3id.org/openbadges/", "https://openbadgespec.org/")


def _contexts(document: Mapping[str, Any]) -> list[Any]:
    value = document.get("@context")
    return value if isinstance(value, list) else [value]


def is_ob2(document: Mapping[str, Any]) -> bool:
    """Whether a JSON document speaks Open Badges 2.0 (by its context or its shape)."""
    contexts = _contexts(document)
    if any(isinstance(c, str) and c.startswith(_VC_CONTEXTS) for c in contexts):
        return False  # a Verifiable Credential, whatever else it names
    if any(isinstance(c, str) and c.startswith(_OB2_PREFIXES) for c in contexts):
        return True
    return any(isinstance(c, dict) and "obi" in c for c in contexts)


def _types(document: Mapping[str, Any]) -> list[str]:
    value = document.get("type")
    return [value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)]


class _Ob2:
    def __init__(
        self,
        loader: DocumentLoader,
        now: datetime,
        recipient: str | None,
        report: VerificationReport,
    ) -> None:
        self.loader = loader
        self.now = now
        self.recipient = recipient
        self.report = report
        # The context's terms, read once per loader: a copy of the whole context per badge
        # (the loader gives copies) was a tenth of a 2.0 verification.
        self.terms: frozenset[str] = loader.remember(
            ("openbadges v2 terms",),
            lambda: frozenset(loader.get("https://w3id.org/openbadges/v2")["@context"]),
        )

    def get(self, name: str, ref: object) -> dict[str, Any] | None:
        if isinstance(ref, dict):
            return ref
        if not isinstance(ref, str):
            self.report.failed(name, f"no {name} given")
            return None
        try:
            document = self.loader.get(ref)
        except DocumentUnavailableError as exc:
            self.report.not_checked(name, f"{ref} cannot be read: {exc}")
            return None
        if not isinstance(document, dict):
            self.report.failed(name, f"{ref} is not a JSON object")
            return None
        return document

    def context(self, document: Mapping[str, Any]) -> None:
        contexts = _contexts(document)
        if any(isinstance(c, str) and c in OB2_CONTEXTS for c in contexts):
            self.report.passed("context", "the Open Badges 2.0 context")
        elif any(isinstance(c, dict) and "obi" in c for c in contexts):
            self.report.warnings.append("an inline copy of the Open Badges 2.0 context")
            self.report.passed("context", "an inline Open Badges 2.0 context")
        else:
            self.report.failed("context", f"not the Open Badges 2.0 context: {contexts}")

    def typed(self, name: str, document: Mapping[str, Any], wanted: set[str]) -> bool:
        types = _types(document)
        # A type is a term of the OB 2.0 context or an absolute IRI (an extension class).
        unknown = [t for t in types if t not in self.terms and ":" not in t]
        if unknown or not (set(types) & wanted or any(":" in t for t in types)):
            self.report.failed(name, f"type {types} is not {sorted(wanted)}")
            return False
        self.report.passed(name, f"{document.get('id')} is a {', '.join(types)}")
        return True

    def dates(self, assertion: Mapping[str, Any]) -> None:
        issued, expires = assertion.get("issuedOn"), assertion.get("expires")
        try:
            issued_at = datetime.fromisoformat(str(issued))
            expires_at = datetime.fromisoformat(str(expires)) if expires else None
        except ValueError:
            self.report.failed("validity dates", f"issuedOn {issued!r} is not a date-time")
            return
        if issued_at.tzinfo is None:
            issued_at = issued_at.replace(tzinfo=self.now.tzinfo)
        if expires_at is not None and expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=self.now.tzinfo)
        if issued_at > self.now:
            self.report.failed("validity dates", f"issued in the future ({issued})")
        elif expires_at is not None and expires_at <= self.now:
            self.report.failed("validity dates", f"expired at {expires}")
        else:
            self.report.passed("validity dates", f"issued {issued}")

    def origin(self, assertion_id: str, issuer: Mapping[str, Any]) -> None:
        found = issuer.get("verification")
        rules: Mapping[str, Any] = found if isinstance(found, dict) else {}
        starts = rules.get("startsWith")
        allowed = rules.get("allowedOrigins")
        host = urlsplit(assertion_id).hostname or ""
        if starts:
            prefixes = [starts] if isinstance(starts, str) else list(starts)
            ok = any(assertion_id.startswith(p) for p in prefixes)
            why = f"startsWith {prefixes}"
        elif allowed:
            origins = [allowed] if isinstance(allowed, str) else list(allowed)
            ok = host in origins
            why = f"allowedOrigins {origins}"
        else:
            ok = host == (urlsplit(str(issuer.get("id"))).hostname or "")
            why = "the issuer's own origin"
        if ok:
            self.report.passed("origin", f"{assertion_id} is allowed by {why}")
        else:
            self.report.failed("origin", f"{assertion_id} is not allowed by {why}")

    def revocation(self, assertion_id: str, issuer: Mapping[str, Any]) -> None:
        url = issuer.get("revocationList")
        if url is None:
            self.report.passed("status", "the issuer publishes no revocation list")
            return
        listing = self.get("status", url)
        if listing is None:
            return
        revoked = listing.get("revokedAssertions") or []
        for entry in revoked:
            entry_id = entry.get("id") if isinstance(entry, dict) else entry
            if entry_id == assertion_id:
                reason = entry.get("revocationReason") if isinstance(entry, dict) else None
                self.report.failed("status", f"revoked: {reason or 'listed in ' + str(url)}")
                return
        self.report.passed("status", f"not in the revocation list {url}")


def _signed_key(ob2: _Ob2, assertion: Mapping[str, Any], issuer: Mapping[str, Any]) -> Any:
    creator = (assertion.get("verification") or {}).get("creator")
    key_doc = ob2.get("issuer key", creator)
    if key_doc is None:
        return None
    if key_doc.get("owner") != issuer.get("id"):
        ob2.report.failed("issuer key", f"{creator} is not owned by the issuer {issuer.get('id')}")
        return None
    pem = key_doc.get("publicKeyPem")
    if not isinstance(pem, str):
        ob2.report.failed("issuer key", f"{creator} has no publicKeyPem")
        return None
    ob2.report.passed("issuer key", f"{creator}, owned by the issuer")
    return RSAKey.import_key(pem).as_dict()


def verify_ob2(
    source: Mapping[str, Any] | str,
    loader: DocumentLoader,
    *,
    now: datetime,
    recipient: str | None = None,
) -> VerificationReport:
    """Verify an Open Badges 2.0 assertion (JSON, hosted) or a signed one (compact JWS)."""
    report = VerificationReport(kind="ob2 assertion")
    ob2 = _Ob2(loader, now, recipient, report)
    signed = isinstance(source, str)
    if isinstance(source, str):
        try:
            assertion: dict[str, Any] = read_jwt(source).credential
        except InvalidCredentialError as exc:
            report.failed("format", str(exc))
            return report
    else:
        assertion = dict(source)
    ob2.context(assertion)
    if "Assertion" not in _types(assertion):
        report.kind = "ob2 document"
        return _document(ob2, assertion)
    ob2.typed("type", assertion, {"Assertion"})
    if not signed:
        hosted = ob2.get("hosted assertion", assertion.get("id"))
        if hosted is None:
            return report
        if hosted.get("revoked") is True:
            reason = hosted.get("revocationReason") or "no reason given"
            report.failed("hosted assertion", f"revoked by its host: {reason}")
            return report
        if hosted.get("id") != assertion.get("id"):
            report.failed("hosted assertion", f"the copy at {assertion.get('id')} differs")
            return report
        report.passed("hosted assertion", f"read again at {hosted.get('id')}")
        assertion = hosted
    badge = ob2.get("badge class", assertion.get("badge"))
    if badge is None or not ob2.typed("badge class", badge, {"BadgeClass"}):
        return report
    if badge.get("id") != assertion.get("badge") and isinstance(assertion.get("badge"), str):
        report.warnings.append(
            f"the badge class at {assertion.get('badge')} has id {badge.get('id')}"
        )
    issuer = ob2.get("issuer", badge.get("issuer"))
    if issuer is None or not ob2.typed("issuer", issuer, _ISSUER_TYPES):
        return report
    if signed:
        key = _signed_key(ob2, assertion, issuer)
        if key is None:
            return report
        try:
            _, assertion = verify_vc_jwt(source, key)  # type: ignore[arg-type]
        except InvalidCredentialError as exc:
            report.failed("proof", str(exc))
            return report
        report.passed("proof", "the JWS verifies")
    else:
        ob2.origin(str(assertion.get("id")), issuer)
    ob2.dates(assertion)
    ob2.revocation(str(assertion.get("id")), issuer)
    if recipient is not None:
        match = match_recipient(assertion, recipient)
        (report.passed if match.matched else report.failed)("recipient", match.reason)
    report.credential = assertion
    return report


def _document(ob2: _Ob2, document: dict[str, Any]) -> VerificationReport:
    # A BadgeClass (or another node) given on its own: its type, and a BadgeClass's issuer.
    types = _types(document)
    if not ob2.typed("type", document, {"BadgeClass", "Issuer", "Profile"}):
        return ob2.report
    if "BadgeClass" in types:
        issuer = ob2.get("issuer", document.get("issuer"))
        if issuer is not None:
            ob2.typed("issuer", issuer, _ISSUER_TYPES)
    ob2.report.credential = document
    return ob2.report
