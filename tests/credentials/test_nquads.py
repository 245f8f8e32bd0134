"""Our N-Quads reader gives the dataset pyld's reader gives, with duplicates dropped alike."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyld import jsonld
from pyld.nquads import ParserError, serialize_nquad
from pyld.nquads import parse_nquads as pyld_parse_nquads

from openbackpack._exceptions import DocumentUnavailableError, InvalidCredentialError
from openbackpack.credentials import CheckOutcome, DocumentLoader, verify_credential
from openbackpack.credentials._canon import canonicalize
from openbackpack.credentials._nquads import parse_nquads
from tests.host._ob3 import Issuer

from .conftest import DATA, read_json


def _canonical_fixtures() -> list[tuple[str, str]]:
    """The canonical N-Quads of every signed fixture that has one (some are broken on purpose)."""
    loader = DocumentLoader()
    found = []
    for path in sorted(DATA.rglob("*.json")):
        document = read_json(path)
        if not (isinstance(document, dict) and "@context" in document and "proof" in document):
            continue
        unsigned = {k: v for k, v in document.items() if k != "proof"}
        with contextlib.suppress(InvalidCredentialError, DocumentUnavailableError):
            found.append((str(path.relative_to(DATA)), canonicalize(unsigned, loader)))
    return found


_FIXTURES = _canonical_fixtures()


def test_the_fixtures_give_canonical_forms_to_read() -> None:
    """Enough signed fixtures canonicalise for the comparison below to mean something."""
    assert len(_FIXTURES) >= 20


@pytest.mark.parametrize(("name", "nquads"), _FIXTURES, ids=[name for name, _ in _FIXTURES])
def test_a_signed_fixture_s_canonical_form_reads_as_pyld_reads_it(name: str, nquads: str) -> None:
    """The canonical N-Quads of each signed fixture give the same dataset and JSON-LD."""
    assert parse_nquads(nquads) == pyld_parse_nquads(nquads)
    assert jsonld.from_rdf(parse_nquads(nquads), {}) == jsonld.from_rdf(
        nquads, {"format": "application/n-quads"}
    )


_iris = st.sampled_from(
    ["https://example.org/a", "https://example.org/b#c", "urn:uuid:1", "did:key:z6Mk#z6Mk"]
)
_bnodes = st.sampled_from(["_:c14n0", "_:c14n1", "_:b2"])
# pyld's own reader splits lines at every break str.splitlines knows; ours at line feeds
# only. The two are compared on text pyld can read back: without the other breaks.
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters=_OTHER_BREAKS)
    | st.sampled_from('"\\\n\r\t'),
    max_size=12,
)


def _node(value: str) -> dict[str, str]:
    return {"type": "blank node" if value.startswith("_:") else "IRI", "value": value}


@st.composite
def _triples(draw: st.DrawFn) -> tuple[dict[str, Any], str | None]:
    subject = _node(draw(_iris | _bnodes))
    predicate = {"type": "IRI", "value": draw(_iris)}
    kind = draw(st.sampled_from(["iri", "bnode", "string", "typed", "language"]))
    if kind in ("iri", "bnode"):
        obj: dict[str, str] = _node(draw(_iris if kind == "iri" else _bnodes))
    else:
        obj = {"type": "literal", "value": draw(_text)}
        if kind == "string":
            obj["datatype"] = "http://www.w3.org/2001/XMLSchema#string"
        elif kind == "typed":
            obj["datatype"] = "http://www.w3.org/2001/XMLSchema#dateTime"
        else:
            obj["datatype"] = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
            obj["language"] = draw(st.sampled_from(["en", "en-GB", "fr"]))
    graph = draw(st.none() | _iris | _bnodes)
    return {"subject": subject, "predicate": predicate, "object": obj}, graph


@settings(max_examples=300, deadline=None)
@given(st.lists(_triples(), max_size=25))
def test_any_serialised_dataset_reads_back_as_pyld_reads_it(
    quads: list[tuple[dict[str, Any], str | None]],
) -> None:
    """Quads pyld wrote (escapes, languages, types, named graphs, repeats) read the same."""
    text = "".join(serialize_nquad(triple, graph) for triple, graph in quads)
    assert parse_nquads(text) == pyld_parse_nquads(text)


def test_a_repeated_triple_is_kept_once_in_its_first_place() -> None:
    """A triple repeated in a graph is kept once, where it first came; another graph keeps its."""
    text = (
        '<https://e.org/s> <https://e.org/p> "one" .\n'
        '<https://e.org/s> <https://e.org/p> "two" .\n'
        '<https://e.org/s> <https://e.org/p> "one" .\n'
        '<https://e.org/s> <https://e.org/p> "one" <https://e.org/g> .\n'
    )
    dataset = parse_nquads(text)
    assert [t["object"]["value"] for t in dataset["@default"]] == ["one", "two"]
    assert [t["object"]["value"] for t in dataset["https://e.org/g"]] == ["one"]
    assert dataset == pyld_parse_nquads(text)


def test_a_line_that_is_no_quad_is_an_error_naming_its_line() -> None:
    """A malformed line raises pyld's ParserError with its line number, as pyld's reader does."""
    text = '<https://e.org/s> <https://e.org/p> "one" .\nnot a quad\n'
    with pytest.raises(ParserError) as raised:
        parse_nquads(text)
    assert "at line 2" in str(raised.value)


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x0b", "\x85"])
def test_a_credential_holding_a_line_separator_in_a_string_verifies(separator: str) -> None:
    """A name holding U+2028 (or another break that is no line feed) is read back, and verifies.

    pyld canonicalises it raw, and its own reader split the quad there and failed.
    """
    credential = Issuer().credential(name=f"Team{separator}work")
    report = verify_credential(credential, loader=DocumentLoader())
    proof = report.check("proof")
    assert proof is not None
    assert proof.outcome is CheckOutcome.PASSED
    assert report.check("validity dates") is not None
    assert with_separator_in(parse_nquads(_unsigned_form(credential)), separator)


def _unsigned_form(credential: dict[str, Any]) -> str:
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    return canonicalize(unsigned, DocumentLoader())


def with_separator_in(dataset: dict[str, Any], separator: str) -> bool:
    return any(
        separator in triple["object"]["value"]
        for triples in dataset.values()
        for triple in triples
        if triple["object"]["type"] == "literal"
    )
