"""JSON-LD expansion of Open Badges documents with no network access.

JSON-LD processors silently drop any property whose name the context does not define (that is
how Moodle's ``alignments`` vanishes). :func:`expand_offline` expands with the OB 2.0 context
shipped in this package and reports every dropped property, so a test or a validator can insist
that nothing was lost.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

from pyld import jsonld

from openbackpack._exceptions import InvalidInputError
from openbackpack._jsonld_lock import JSONLD_LOCK
from openbackpack._jsonld_processor import MemoProcessor
from openbackpack.models import ob2

__all__ = ["OB2_CONTEXT_URLS", "Expansion", "expand_offline", "offline_document_loader"]

OB2_CONTEXT_URLS: Final = frozenset(
    {
        "https://w3id.org/openbadges/v2",
        "https://openbadgespec.org/v2/context.json",
    }
)
"""The URLs under which the OB 2.0 context is published; all resolve to the shipped copy."""


@cache
def _ob2_context() -> dict[str, Any]:
    text = resources.files("openbackpack.issuer").joinpath("contexts/openbadges-v2.json")
    document: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return document


def offline_document_loader(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A pyld document loader that knows only the OB 2.0 context and never touches the network.

    Raises:
        pyld.jsonld.JsonLdError: for any other URL.
    """
    if url.rstrip("/") in OB2_CONTEXT_URLS or url in OB2_CONTEXT_URLS:
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            # A copy: pyld must never be able to alter the cached context.
            "document": copy.deepcopy(_ob2_context()),
        }
    raise jsonld.JsonLdError(
        f"{url} is not available offline; only the Open Badges 2.0 context is",
        "jsonld.LoadDocumentError",
        code="loading document failed",
    )


@dataclass(frozen=True, slots=True)
class Expansion:
    """The result of :func:`expand_offline`: the expanded document and what it lost.

    ``dropped`` holds the path of every property expansion dropped (``badge.alignments``,
    ``alignment[0].foo``); it is empty when every property survived.
    """

    expanded: list[dict[str, Any]]
    dropped: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """Whether every property of the document survived expansion."""
        return not self.dropped


def expand_offline(document: ob2.Ob2Model | Mapping[str, Any]) -> Expansion:
    """Expand an Open Badges document with the shipped context and report dropped properties.

    Raises:
        InvalidInputError: the document is not valid JSON-LD, or names a context other than
            the Open Badges 2.0 one.
    """
    data = document.to_json() if isinstance(document, ob2.Ob2Model) else dict(document)
    dropped_names: set[str] = set()

    def on_dropped(name: str | None) -> None:
        # pyld passes None for a term the context maps to null; record that too.
        dropped_names.add("@null" if name is None else name)

    try:
        with JSONLD_LOCK:
            expanded = MemoProcessor(on_property_dropped=on_dropped).expand(
                data, {"documentLoader": offline_document_loader}
            )
    except jsonld.JsonLdError as exc:
        raise InvalidInputError(f"the document cannot be expanded offline: {exc}") from None
    paths = tuple(_dropped_paths(data, "", dropped_names))
    if "@null" in dropped_names:
        paths += ("(a property whose term the context maps to null)",)
    return Expansion(expanded=expanded, dropped=paths)


def _dropped_paths(value: object, prefix: str, dropped: set[str]) -> Iterator[str]:
    # pyld reports names, not places; find the places. Below a dropped property nothing
    # was looked at, so the walk does not go there.
    if isinstance(value, Mapping):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key in dropped:
                yield path
            elif key != "@context":
                yield from _dropped_paths(item, path, dropped)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _dropped_paths(item, f"{prefix}[{index}]", dropped)
