"""RDF Dataset Canonicalization (RDFC-1.0 / URDNA2015, by pyld) of documents and proof options.

Every Data Integrity suite verified here (``eddsa-rdfc-2022``, ``ecdsa-rdfc-2019``,
``ecdsa-sd-2023``) hashes the same two canonical forms: the document without its proof, and the
proof options without their value, given the document's ``@context``.

The canonical form of a document that names only shipped contexts depends on nothing but its
JSON, so it is remembered (by a digest of that JSON): a credential signed here and read back
from a host, or verified by the mover's plan and again by its proof, is canonicalised once.
A document naming any other context (mapped or fetched, which may differ from loader to
loader) is always canonicalised afresh.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cachetools import LRUCache
from pyld import jsonld

from openbackpack._exceptions import DocumentUnavailableError, InvalidCredentialError
from openbackpack._jsonld_lock import JSONLD_LOCK
from openbackpack._jsonld_processor import MemoProcessor
from openbackpack.credentials._loader import (
    SHIPPED_CONTEXTS,
    DocumentLoader,
    refuse_inline_contexts,
)

__all__ = ["Canonical", "canonicalize", "proof_canonical_forms"]

# A credential's canonical N-Quads are a few kilobytes: this bounds the memo to a few MB.
_REMEMBERED: Final = 1024
_canonical: LRUCache[bytes, str] = LRUCache(maxsize=_REMEMBERED)
_canonical_lock: Final = threading.Lock()


def canonicalize(document: Mapping[str, Any], loader: DocumentLoader) -> str:
    """The RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD document.

    Raises:
        InvalidCredentialError: the document is not valid JSON-LD, or names an inline context.
        DocumentUnavailableError: a context it names is not available to ``loader``.
    """
    refuse_inline_contexts(document)
    key = _memo_key(document)
    if key is not None:
        with _canonical_lock:
            remembered = _canonical.get(key)
        if remembered is not None:
            return remembered
    nquads = _normalize(document, loader)
    if key is not None:
        with _canonical_lock:
            _canonical[key] = nquads
    return nquads


def forget_canonical_forms() -> None:
    """Forget every remembered canonical form (benchmarks measure canonicalisation cold)."""
    with _canonical_lock:
        _canonical.clear()


def _memo_key(document: Mapping[str, Any]) -> bytes | None:
    """A digest of the document's JSON, or None when its canonical form may vary by loader."""
    if not all(isinstance(c, str) and c in SHIPPED_CONTEXTS for c in _contexts(document)):
        return None
    try:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return None  # not plain JSON (pyld decides what to make of it), so not remembered
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _contexts(value: Any) -> Iterator[Any]:
    """Every entry of every ``@context`` in the document, at any depth."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "@context":
                yield from item if isinstance(item, list) else [item]
            else:
                yield from _contexts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _contexts(item)


def _normalize(document: Mapping[str, Any], loader: DocumentLoader) -> str:
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
