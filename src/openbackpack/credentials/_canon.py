"""RDF Dataset Canonicalization (RDFC-1.0 / URDNA2015, by pyld) of documents and proof options.

Every Data Integrity suite verified here (``eddsa-rdfc-2022``, ``ecdsa-rdfc-2019``,
``ecdsa-sd-2023``) hashes the same two canonical forms: the document without its proof, and the
proof options without their value, given the document's ``@context``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyld import jsonld

from openbackpack._exceptions import DocumentUnavailableError, InvalidCredentialError
from openbackpack._jsonld_lock import JSONLD_LOCK
from openbackpack._jsonld_processor import MemoProcessor
from openbackpack.credentials._loader import DocumentLoader, refuse_inline_contexts

__all__ = ["Canonical", "canonicalize", "proof_canonical_forms"]


def canonicalize(document: Mapping[str, Any], loader: DocumentLoader) -> str:
    """The RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD document.

    Raises:
        InvalidCredentialError: the document is not valid JSON-LD, or names an inline context.
        DocumentUnavailableError: a context it names is not available to ``loader``.
    """
    refuse_inline_contexts(document)
    try:
        with JSONLD_LOCK:
            nquads: str = MemoProcessor().normalize(
                dict(document),
                {
                    "algorithm": "URDNA2015",
                    "format": "application/n-quads",
                    "documentLoader": loader,
                    # Strict: a term the contexts do not define would be signed as nothing at all.
                    "safe": True,
                },
            )
    except jsonld.JsonLdError as exc:
        unavailable = _unavailable(exc)
        if unavailable is not None:
            raise unavailable from None
        raise InvalidCredentialError(f"the document cannot be canonicalised: {exc}") from None
    except ValueError as exc:
        # pyld raises a bare ValueError for some malformed JSON-LD, such as a relative IRI
        # given as a context: still a document that cannot be read, not a verifier crash.
        raise InvalidCredentialError(f"the document cannot be canonicalised: {exc}") from None
    return nquads


def _unavailable(exc: BaseException | None) -> DocumentUnavailableError | None:
    # pyld wraps the loader's exception several levels deep, in .cause or .details['cause'].
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DocumentUnavailableError):
            return exc
        details = getattr(exc, "details", None)
        nested = details.get("cause") if isinstance(details, dict) else None
        exc = getattr(exc, "cause", None) or nested or exc.__cause__ or exc.__context__
        seen += 1
    return None


@dataclass(frozen=True, slots=True)
class Canonical:
    """The canonical forms a proof covers: the document's and the proof options'."""

    document: str
    proof: str

    def hash_data(self) -> bytes:
        """``sha256(proof options) || sha256(document)``: the bytes that are signed."""
        return (
            hashlib.sha256(self.proof.encode()).digest()
            + hashlib.sha256(self.document.encode()).digest()
        )


def proof_canonical_forms(
    document: Mapping[str, Any], proof: Mapping[str, Any], loader: DocumentLoader
) -> Canonical:
    """Canonicalise ``document`` (its ``proof`` removed) and ``proof`` (its value removed)."""
    unsigned = {key: value for key, value in document.items() if key != "proof"}
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    options["@context"] = document.get("@context")
    return Canonical(canonicalize(unsigned, loader), canonicalize(options, loader))
