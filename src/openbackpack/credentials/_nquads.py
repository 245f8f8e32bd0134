"""Reading N-Quads into the RDF dataset pyld works on, each triple compared once.

pyld's reader (``pyld.nquads.parse_nquads``) drops a duplicate triple by comparing it with
every triple of its graph read before it: a credential of 40 triples costs some 800
comparisons, most of the time a verifier spends reading a proof's signed graph back
(:class:`~openbackpack.credentials._signed.SignedGraph`), and the cost grows with the square
of the credential. It also splits lines where ``str.splitlines`` does, so a credential
holding U+2028 in a string, which pyld canonicalises without complaint, could not be read
back. This is that reader with its line pattern, its triples built the same way and kept in
the same order, lines split at line feeds only, and duplicates dropped through a set of keys.
Adapted from PyLD's ``nquads.py`` (BSD-3-Clause, Copyright Digital Bazaar, Inc.).
"""

from __future__ import annotations

import re
from typing import Any, Final

from pyld.jsonld import RDF_LANGSTRING, XSD_STRING
from pyld.nquads import ParserError, unescape

__all__ = ["parse_nquads"]

_IRI: Final = "(?:<([^:]+:[^>]*)>)"
_BNODE: Final = "(_:(?:[A-Za-z0-9_][A-Za-z0-9_.-]*))"
_PLAIN: Final = '"([^"\\\\]*(?:\\\\.[^"\\\\]*)*)"'
_DATATYPE: Final = "(?:\\^\\^" + _IRI + ")"
_LANGUAGE: Final = "(?:@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*))"
_LITERAL: Final = "(?:" + _PLAIN + "(?:" + _DATATYPE + "|" + _LANGUAGE + ")?)"
_WS: Final = "[ \\t]+"
_WSO: Final = "[ \\t]*"
_SUBJECT: Final = "(?:" + _IRI + "|" + _BNODE + ")" + _WS
_PROPERTY: Final = _IRI + _WS
_OBJECT: Final = "(?:" + _IRI + "|" + _BNODE + "|" + _LITERAL + ")" + _WSO
_GRAPH: Final = "(?:\\.|(?:(?:" + _IRI + "|" + _BNODE + ")" + _WSO + "\\.))"
_QUAD: Final = re.compile("^" + _WSO + _SUBJECT + _PROPERTY + _OBJECT + _GRAPH + _WSO + "$")
_EMPTY: Final = re.compile("(^" + _WSO + "$|^#.*$)")

Triple = dict[str, dict[str, str]]
_Key = tuple[str, ...]


def parse_nquads(text: str) -> dict[str, list[Triple]]:
    """The RDF dataset of N-Quads, as ``pyld.nquads.parse_nquads`` gives it (lines apart).

    Raises:
        pyld.nquads.ParserError: a line is not a quad.
    """
    dataset: dict[str, list[Triple]] = {}
    seen: dict[str, set[_Key]] = {}
    # Lines end at a line feed (after a carriage return, if any) and nowhere else: a literal
    # may hold a vertical tab, U+2028 or another of the breaks str.splitlines also splits at
    # (pyld's reader does, and then fails to read the quad that holds one).
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if _EMPTY.search(line) is not None:
            continue
        match = _QUAD.search(line)
        if match is None:
            raise ParserError(
                f"Error while parsing N-Quads invalid quad {line} at line {number}.",
                line_number=number,
            )
        groups = match.groups()
        triple = _triple(groups)
        name = groups[8] if groups[8] is not None else groups[9] or "@default"
        key = _key(triple)
        keys = seen.setdefault(name, set())
        if key not in keys:
            keys.add(key)
            dataset.setdefault(name, []).append(triple)
    return dataset


def _triple(groups: tuple[Any, ...]) -> Triple:
    subject = (
        {"type": "IRI", "value": groups[0]}
        if groups[0] is not None
        else {"type": "blank node", "value": groups[1]}
    )
    if groups[3] is not None:
        obj = {"type": "IRI", "value": groups[3]}
    elif groups[4] is not None:
        obj = {"type": "blank node", "value": groups[4]}
    else:
        obj = {"type": "literal"}
        value = unescape(groups[5])
        if groups[6] is not None:
            obj["datatype"] = groups[6]
        elif groups[7] is not None:
            obj["datatype"] = RDF_LANGSTRING
            obj["language"] = groups[7]
        else:
            obj["datatype"] = XSD_STRING
        obj["value"] = value
    return {"subject": subject, "predicate": {"type": "IRI", "value": groups[2]}, "object": obj}


def _key(triple: Triple) -> _Key:
    """What pyld compares two triples by: each part's type and value, the language, the type."""
    subject, predicate, obj = triple["subject"], triple["predicate"], triple["object"]
    return (
        subject["type"],
        subject["value"],
        predicate["type"],
        predicate["value"],
        obj["type"],
        obj["value"],
        obj.get("language", "\0"),
        obj.get("datatype", "\0"),
    )
