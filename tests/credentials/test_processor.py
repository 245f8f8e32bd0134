"""The remembered context processing gives pyld's own canonical forms, and is remembered."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from openbackpack._jsonld_processor import MemoProcessor
from openbackpack.credentials import DocumentLoader
from openbackpack.issuer._jsonld import offline_document_loader
from tests.credentials.conftest import DATA, OB3_VECTOR, W3C, W3C_ECDSA

_OPTIONS = {"algorithm": "URDNA2015", "format": "application/n-quads", "safe": True}


def _documents() -> Iterator[Path]:
    for folder in (DATA / "ob30-validator", W3C, W3C_ECDSA, OB3_VECTOR):
        for path in sorted(folder.rglob("*.json")):
            if path.name != "MANIFEST.json":
                yield path


def _linked_data(path: Path) -> Any:
    document = json.loads(path.read_text(encoding="utf-8"))
    return document if isinstance(document, dict) and "@context" in document else None


DOCUMENTS = [p for p in _documents() if _linked_data(p) is not None]


def _plain(document: dict[str, Any]) -> str | type[Exception]:
    try:
        nquads: str = jsonld.normalize(
            copy.deepcopy(document), {**_OPTIONS, "documentLoader": DocumentLoader()}
        )
    except Exception as exc:  # the same failure is expected of both
        return type(exc)
    return nquads


def _remembered(document: dict[str, Any]) -> str | type[Exception]:
    try:
        nquads: str = MemoProcessor().normalize(
            copy.deepcopy(document), {**_OPTIONS, "documentLoader": DocumentLoader()}
        )
    except Exception as exc:
        return type(exc)
    return nquads


def test_fixture_documents_are_found() -> None:
    """The comparison below runs over the shipped test vectors and validator fixtures."""
    assert len(DOCUMENTS) >= 20


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(DATA)))
def test_canonical_form_equals_pyld_own_cold_and_warm(path: Path) -> None:
    """Every fixture canonicalises (or fails) exactly as plain pyld does, cold and warm."""
    document = _linked_data(path)
    expected = _plain(document)
    assert _remembered(document) == expected
    assert _remembered(document) == expected


def _count_context_objects(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count pyld's own processing of context objects (not URLs) from here on."""
    processed: list[int] = []
    original = jsonld.JsonLdProcessor._process_context

    def counting(self: Any, active_ctx: Any, local_ctx: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(local_ctx, Mapping):
            processed.append(id(local_ctx))
        return original(self, active_ctx, local_ctx, *args, **kwargs)

    monkeypatch.setattr(jsonld.JsonLdProcessor, "_process_context", counting)
    return processed


def test_a_second_credential_processes_no_scoped_context_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After one credential, pyld processes none of the next one's context objects again."""
    vector = json.loads((OB3_VECTOR / "vector.json").read_text(encoding="utf-8"))["credential"]
    loader = DocumentLoader()
    MemoProcessor().normalize(copy.deepcopy(vector), {**_OPTIONS, "documentLoader": loader})
    processed = _count_context_objects(monkeypatch)
    other = {**copy.deepcopy(vector), "id": "urn:uuid:2f0b0d0e-8f5e-4a8b-9a55-0d5c8b7d6e11"}
    MemoProcessor().normalize(other, {**_OPTIONS, "documentLoader": loader})
    assert processed == []
    # Plain pyld, for contrast, processes the scoped contexts again for every document.
    jsonld.normalize(copy.deepcopy(other), {**_OPTIONS, "documentLoader": loader})
    assert len(processed) > 0


OB2_DOCUMENTS = [
    p
    for p in sorted((DATA / "ob20-validator").glob("*.json"))
    if p.name != "MANIFEST.json" and _linked_data(p) is not None
]


def _expanded(processor: jsonld.JsonLdProcessor, document: dict[str, Any]) -> Any:
    try:
        return processor.expand(
            copy.deepcopy(document), {"documentLoader": offline_document_loader}
        )
    except Exception as exc:  # the same failure is expected of both
        return type(exc)


@pytest.mark.parametrize("path", OB2_DOCUMENTS, ids=lambda p: p.name)
def test_ob2_expansion_equals_pyld_own(path: Path) -> None:
    """Every Open Badges 2.0 fixture expands (or fails) exactly as plain pyld expands it."""
    document = _linked_data(path)
    expected = _expanded(jsonld.JsonLdProcessor(), document)
    assert _expanded(MemoProcessor(), document) == expected
    assert _expanded(MemoProcessor(), document) == expected
