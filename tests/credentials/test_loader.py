from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from openbackpack import DocumentUnavailableError, InvalidCredentialError
from openbackpack.credentials import (
    SHIPPED_CONTEXTS,
    DocumentLoader,
    canonicalize,
    load_document_map,
)
from tests.credentials.conftest import OB3_VECTOR, read_json


@pytest.mark.parametrize("url", sorted(SHIPPED_CONTEXTS))
def test_every_shipped_context_loads(url: str) -> None:
    """Each shipped context URL gives a JSON-LD document with an @context."""
    assert "@context" in DocumentLoader().get(url)


def test_unknown_remote_context_is_refused_offline() -> None:
    """A context URL that is neither shipped nor mapped is refused, naming the URL."""
    with pytest.raises(DocumentUnavailableError) as info:
        DocumentLoader().get("https://evil.example/context.json")
    assert info.value.url == "https://evil.example/context.json"


def test_canonicalising_with_an_unknown_context_names_it() -> None:
    """Canonicalisation surfaces the loader's refusal, not a generic JSON-LD error."""
    document = {"@context": ["https://evil.example/ctx"], "id": "urn:x"}
    with pytest.raises(DocumentUnavailableError):
        canonicalize(document, DocumentLoader())


def test_unknown_context_is_given_when_fetching_is_allowed() -> None:
    """An injected fetch function serves what is not shipped."""
    seen: list[str] = []

    def fetch(url: str) -> object:
        seen.append(url)
        return {"@context": {"name": "https://schema.org/name"}}

    loader = DocumentLoader(fetch=fetch)
    assert not loader.offline
    assert loader.get("https://example.org/ctx")["@context"]["name"]
    loader.get("https://example.org/ctx")
    assert seen == ["https://example.org/ctx"]


def test_inline_context_object_is_refused() -> None:
    """A document with an inline @context object is refused before canonicalisation."""
    data = read_json(OB3_VECTOR / "vector.json")["credential"]
    data["@context"].append({"name": "https://evil.example/redefined"})
    with pytest.raises(InvalidCredentialError, match="inline @context"):
        canonicalize(data, DocumentLoader())


def test_document_map_exact_urls_and_prefixes(tmp_path: Path) -> None:
    """A document map resolves exact URLs and the longest matching folder prefix."""
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "3").write_text('{"id": "list 3"}')
    (tmp_path / "one.json").write_text('{"id": "one"}')
    map_file = tmp_path / "map.json"
    map_file.write_text(
        json.dumps({"https://a.example/one": "one.json", "https://a.example/status/": "lists"})
    )
    loader = DocumentLoader(load_document_map(map_file))
    assert loader.get("https://a.example/one")["id"] == "one"
    assert loader.get("https://a.example/status/3")["id"] == "list 3"
    with pytest.raises(DocumentUnavailableError):
        loader.get("https://a.example/two")


def test_a_malformed_document_map_is_a_clear_error(tmp_path: Path) -> None:
    """A document map that is not an object of strings is refused naming the file."""
    bad = tmp_path / "map.json"
    bad.write_text("[1, 2]")
    with pytest.raises(InvalidCredentialError, match=r"map\.json"):
        load_document_map(bad)


def test_cached_documents_cannot_be_altered_by_callers() -> None:
    """Changing a document the loader returned does not change the next one it returns."""
    loader = DocumentLoader()
    url = "https://www.w3.org/ns/credentials/v2"
    loader.get(url)["@context"] = None
    assert loader.get(url)["@context"] is not None


class _Counting(DocumentLoader):
    """A loader that records every URL pyld asks it for."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asked: list[str] = []

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        self.asked.append(url)
        return super().__call__(url, options)


def test_shipped_contexts_are_resolved_once_per_process() -> None:
    """After one canonicalisation, another loader is not asked again for a shipped context."""
    data = read_json(OB3_VECTOR / "vector.json")["credential"]
    expected = canonicalize(data, DocumentLoader())
    second = _Counting()
    assert canonicalize(data, second) == expected
    assert not [url for url in second.asked if url in SHIPPED_CONTEXTS]


def test_fetched_contexts_are_asked_of_each_loader() -> None:
    """A fetched context is not shared between loaders: each loader's own fetch decides."""
    url = "https://example.org/fetched-context"

    def fetch_as(term: str) -> Any:
        return lambda _url: {"@context": {"name": f"https://example.org/{term}"}}

    document = {"@context": [url], "id": "urn:x", "name": "n"}
    first = canonicalize(document, _Counting(fetch=fetch_as("one")))
    second_loader = _Counting(fetch=fetch_as("two"))
    second = canonicalize(document, second_loader)
    assert url in second_loader.asked
    assert "https://example.org/one" in first
    assert "https://example.org/two" in second
