"""JSON-LD: every property of every document survives offline expansion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from openbackpack import InvalidInputError
from openbackpack.issuer import IssuerDocuments, expand_offline, offline_document_loader
from openbackpack.models import ob2
from tests.registry_data import Seeded

OBI = "https://w3id.org/openbadges#"

DocumentOf = Callable[[IssuerDocuments, Seeded], ob2.Ob2Model]

DOCUMENTS: dict[str, DocumentOf] = {
    "assertion": lambda docs, ids: docs.assertion(ids.award_hash),
    "badge-class": lambda docs, ids: docs.badge_class(ids.badge_id),
    "issuer": lambda docs, ids: docs.issuer(ids.issuer_id),
    "endorsement": lambda docs, ids: docs.endorsement(ids.endorsement_id),
    "revocation-list": lambda docs, ids: docs.revocation_list(ids.issuer_id),
    "revoked-assertion": lambda docs, ids: docs.hosted_assertion("unknown"),
}


# The OB 2.0 context aliases these two to @id and @type.
KEYWORD_ALIASES = {"id", "type"}


def _count_properties(value: Any) -> int:
    """Count property keys: compact JSON's non-keyword keys, or expanded JSON-LD's IRI keys."""
    if isinstance(value, dict):
        own = sum(1 for key in value if not key.startswith("@") and key not in KEYWORD_ALIASES)
        return own + sum(
            _count_properties(item) for key, item in value.items() if key != "@context"
        )
    if isinstance(value, list):
        return sum(_count_properties(item) for item in value)
    return 0


@pytest.mark.parametrize("make", [pytest.param(make, id=name) for name, make in DOCUMENTS.items()])
def test_every_property_survives_expansion(
    documents: IssuerDocuments, seeded: Seeded, make: DocumentOf
) -> None:
    """Expansion drops nothing: no property is reported, and the property counts agree."""
    document = make(documents, seeded)
    expansion = expand_offline(document)
    assert expansion.complete, expansion.dropped
    assert _count_properties(document.to_json()) == _count_properties(expansion.expanded)


def test_assertion_expands_to_open_badges_terms(documents: IssuerDocuments, seeded: Seeded) -> None:
    """The expanded assertion uses the OB vocabulary, alignment and endorsement included."""
    node = expand_offline(documents.assertion(seeded.award_hash)).expanded[0]
    assert node["@type"] == [OBI + "Assertion"]
    badge = node[OBI + "badge"][0]
    assert OBI + "alignment" in badge
    assert "https://w3id.org/credentials#credential" in badge
    assert node[OBI + "verify"][0]["http://schema.org/url"] == [{"@id": node["@id"]}]


def test_moodles_alignments_would_be_dropped() -> None:
    """Moodle's 'alignments' and unknown keys are reported with their paths."""
    expansion = expand_offline(
        {
            "@context": ob2.OB2_CONTEXT,
            "type": "Assertion",
            "id": "https://x.example/a",
            "badge": {"type": "BadgeClass", "alignments": [{"targetName": "x"}]},
            "notAnObTerm": 1,
        }
    )
    assert not expansion.complete
    assert expansion.dropped == ("badge.alignments", "notAnObTerm")


def test_other_contexts_are_never_fetched() -> None:
    """A document naming another remote context is refused instead of fetched."""
    with pytest.raises(InvalidInputError, match="cannot be expanded offline"):
        expand_offline({"@context": "https://example.org/context.json", "name": "x"})


def test_loader_serves_the_shipped_context_under_both_urls() -> None:
    """Both published URLs of the OB 2.0 context resolve to the copy in the package."""
    for url in ("https://w3id.org/openbadges/v2", "https://openbadgespec.org/v2/context.json"):
        remote = offline_document_loader(url)
        assert remote["document"]["@context"]["alignment"]["@id"] == "obi:alignment"
        remote["document"]["@context"].clear()
    assert offline_document_loader(ob2.OB2_CONTEXT)["document"]["@context"]
