"""Canonical forms are remembered only where nothing but the document's JSON decides them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from openbackpack._jsonld_processor import MemoProcessor
from openbackpack.credentials import DocumentLoader
from openbackpack.credentials._canon import canonicalize

_VC2 = "https://www.w3.org/ns/credentials/v2"


def _credential(name: str) -> dict[str, Any]:
    return {
        "@context": [_VC2],
        "id": "urn:uuid:6f1a3c4e-2d0b-4e8a-9c61-0d1f6f3b2a11",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject", "name": name},
    }


class _Normalizations:
    """Counts the canonicalisations pyld itself is asked for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = MemoProcessor.normalize

        def counted(processor: MemoProcessor, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(processor, *args, **kwargs)

        monkeypatch.setattr(MemoProcessor, "normalize", counted)


def test_a_document_of_shipped_contexts_is_canonicalised_by_pyld_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same JSON again, even as another object with its keys reordered, is not re-run."""
    calls = _Normalizations(monkeypatch)
    document = _credential(f"memo {id(calls)}")
    first = canonicalize(document, DocumentLoader())
    reordered = dict(reversed(list(copy.deepcopy(document).items())))
    second = canonicalize(reordered, DocumentLoader())
    assert (first, calls.count) == (second, 1)
    assert "memo" in first


def test_a_changed_value_is_canonicalised_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """One different value is another document: its own N-Quads, never the remembered ones."""
    calls = _Normalizations(monkeypatch)
    document = _credential(f"before {id(calls)}")
    before = canonicalize(document, DocumentLoader())
    document["credentialSubject"]["name"] = f"after {id(calls)}"
    after = canonicalize(document, DocumentLoader())
    assert calls.count == 2
    assert "before" in before
    assert "after" in after
    assert "before" not in after


def test_a_mapped_context_is_read_from_each_loader(tmp_path: Path) -> None:
    """A context only a document map gives may differ per loader, so nothing is remembered."""
    url = "https://contexts.example/terms.jsonld"
    document = {"@context": [url], "id": "urn:example:thing", "label": "x"}
    answers: list[str] = []
    for term in ("https://one.example/label", "https://two.example/label"):
        context = tmp_path / f"{len(answers)}.jsonld"
        context.write_text(json.dumps({"@context": {"label": term}}), encoding="utf-8")
        answers.append(canonicalize(document, DocumentLoader({url: context})))
    assert "one.example" in answers[0]
    assert "two.example" in answers[1]
