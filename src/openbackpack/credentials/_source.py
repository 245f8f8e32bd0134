"""``verify_credential``: whatever the source (JSON, JWT, baked image, file, URL), one report."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from openbackpack._exceptions import DocumentUnavailableError, InvalidCredentialError
from openbackpack.credentials._bake import PNG_SIGNATURE, Baked, unbake
from openbackpack.credentials._jwt import read_jwt
from openbackpack.credentials._loader import DocumentLoader
from openbackpack.credentials._ob2 import is_ob2, verify_ob2
from openbackpack.credentials._report import VerificationReport
from openbackpack.credentials._verify import Verifier

__all__ = ["CredentialSource", "verify_credential"]

CredentialSource = Mapping[str, Any] | str | bytes | Path
"""A credential (JSON object or text), a compact JWT, a baked PNG/SVG, a file path or a URL."""


def verify_credential(
    source: CredentialSource,
    *,
    loader: DocumentLoader | None = None,
    recipient: str | None = None,
    now: datetime | None = None,
) -> VerificationReport:
    """Verify an Open Badges 3.0 credential (or a 2.0 assertion) and report every check by name.

    ``source`` may be a credential (a mapping or JSON text), a compact VC-JWT, the bytes of a
    baked PNG or SVG, a :class:`~pathlib.Path` to any of these, or an ``http(s)`` URL (read
    through ``loader``). ``loader`` gives contexts and remote documents; the default knows only
    the shipped contexts, so status lists and DID documents are "could not be checked" unless
    a document map or a fetch function provides them. ``recipient`` adds the recipient check;
    ``now`` pins the clock. An Open Badges 2.0 assertion (JSON, a signed JWS, or baked) gets the
    2.0 checks: hosted assertion, badge class, issuer, origin, revocation list, or the JWS.

    Never raises for a bad credential: what is wrong is in the report.
    """
    verifier = Verifier(loader or DocumentLoader(), now=now, recipient=recipient)
    try:
        payload = _payload(source, verifier.loader)
    except (InvalidCredentialError, DocumentUnavailableError) as exc:
        report = VerificationReport()
        report.failed("format", str(exc))
        return report
    if isinstance(payload, dict):
        if is_ob2(payload):
            return verify_ob2(payload, verifier.loader, now=verifier.now, recipient=recipient)
        return verifier.document(payload)
    if _jwt_is_ob2(payload):
        return verify_ob2(payload, verifier.loader, now=verifier.now, recipient=recipient)
    return verifier.jwt(payload)


def _jwt_is_ob2(token: str) -> bool:
    try:
        return is_ob2(read_jwt(token).credential)
    except InvalidCredentialError:
        return False


def _payload(source: CredentialSource, loader: DocumentLoader) -> dict[str, Any] | str:
    if isinstance(source, Mapping):
        return dict(source)
    if isinstance(source, Path):
        try:
            return _payload(source.read_bytes(), loader)
        except OSError as exc:
            raise InvalidCredentialError(f"cannot read {source}: {exc}") from None
    if isinstance(source, bytes):
        if source.startswith(PNG_SIGNATURE) or b"<svg" in source[:4096].lower():
            return _baked(unbake(source), loader)
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidCredentialError("neither an image nor UTF-8 text") from None
    text = source.strip()
    if text.startswith(("https://", "http://")):
        document = loader.get(text)
        if isinstance(document, str):
            return document.strip()
        if not isinstance(document, dict):
            raise InvalidCredentialError(f"{text} is not a credential")
        return document
    return _text(text)


def _baked(baked: Baked, loader: DocumentLoader) -> dict[str, Any] | str:
    text = baked.payload.strip()
    if baked.version == "2.0" and text.startswith(("https://", "http://")):
        return _payload(text, loader)  # OB 2.0 bakes the hosted assertion's URL too
    return _text(text)


def _text(text: str) -> dict[str, Any] | str:
    if not text.startswith("{"):
        return text
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InvalidCredentialError(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidCredentialError("the credential is not a JSON object")
    return document
