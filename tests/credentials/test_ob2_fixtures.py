"""Open Badges 2.0: every validator fixture, and every document our issuer app serves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest

from openbackpack.cli._credentials import http_fetch
from openbackpack.credentials import (
    CheckOutcome,
    DocumentLoader,
    Outcome,
    unbake,
    verify_credential,
)
from openbackpack.issuer import create_issuer_app
from openbackpack.serve import base_url_of, bind_socket, serve_in_thread
from openbackpack.store import Store
from tests.credentials.conftest import OB20, read_json
from tests.registry_data import Seeded, seed

NOW = datetime(2027, 1, 1, tzinfo=UTC)
MANIFEST = read_json(OB20 / "MANIFEST.json")
EXTENSIONS = Path(__file__).resolve().parent.parent / "data" / "ob_v2p0_extensions"

EXPECTED: dict[str, tuple[Outcome, str | None]] = {
    "assertion-with-endorsements.json": (Outcome.VALID, None),
    "assertion-with-extension-node-basic.json": (Outcome.VALID, None),
    "assets/badge-with-data-image.json": (Outcome.VALID, None),
    "assets/badgeclass1.json": (Outcome.VALID, None),
    "basic-assertion-expired.json": (Outcome.INVALID, "validity dates"),
    "basic-assertion-in-future.json": (Outcome.INVALID, "validity dates"),
    "basic-assertion-invalid-context.json": (Outcome.INVALID, "context"),
    "basic-assertion-no-public-key.json": (Outcome.VALID, None),
    "basic-assertion-with-allowed-origins-invalid-starts-with.json": (Outcome.INVALID, "origin"),
    "basic-assertion-with-allowed-origins.json": (Outcome.VALID, None),
    "basic-assertion.json": (Outcome.VALID, None),
    "rdf-validation/badge-class-invalid-issuer-type.json": (Outcome.INVALID, "issuer"),
    "rdf-validation/invalid-class.json": (Outcome.INVALID, "type"),
    "rdf-validation/valid-badge-class.json": (Outcome.VALID, None),
    "rdf-validation/valid-cool-class.json": (Outcome.VALID, None),
    "simple-badge.png": (Outcome.VALID, None),
    "simple-revoked.jwt": (Outcome.INVALID, "status"),
    "simple.jwt": (Outcome.VALID, None),
    "warning-with-redirection.json": (Outcome.VALID, None),
}


def _loader(fixture: Path) -> DocumentLoader:
    mapping: dict[str, Path] = {url: OB20 / path for url, path in MANIFEST["local_domains"].items()}
    mapping["https://w3id.org/openbadges/extensions/exampleExtension/context.json"] = (
        EXTENSIONS / "exampleExtension-context.json"
    )
    if fixture.suffix == ".png":
        # The baked assertion is basic-assertion.json's (same id, badge and issuer).
        baked = json.loads(unbake(fixture.read_bytes()).payload)
        mapping[baked["id"]] = OB20 / "basic-assertion.json"
    if fixture.suffix == ".json":
        # The upstream tests hand the validator the document; hosted verification reads it
        # again at its id, so the fixture is what its host serves there.
        document = json.loads(fixture.read_text())
        if isinstance(document.get("id"), str):
            mapping[document["id"]] = fixture
    return DocumentLoader(mapping)


def test_the_table_covers_the_manifest() -> None:
    """Every OB 2.0 fixture is listed, with the manifest's verdict."""
    verdicts = {"valid": Outcome.VALID, "valid-with-warnings": Outcome.VALID}
    for entry in MANIFEST["fixtures"]:
        assert EXPECTED[entry["file"]][0] is verdicts.get(entry["expected"], Outcome.INVALID)
    assert {entry["file"] for entry in MANIFEST["fixtures"]} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_ob2_fixture_gives_its_expected_outcome(name: str) -> None:
    """Each OB 2.0 fixture verifies to its expected outcome, decided by the expected check."""
    outcome, check = EXPECTED[name]
    report = verify_credential(OB20 / name, loader=_loader(OB20 / name), now=NOW)
    assert report.outcome is outcome, report.to_json()
    if check is not None:
        assert any(c.name == check and c.outcome is CheckOutcome.FAILED for c in report.checks)


def test_redirected_badge_class_is_a_warning() -> None:
    """A badge class whose id differs from the URL it was read at passes with a warning."""
    fixture = OB20 / "warning-with-redirection.json"
    report = verify_credential(fixture, loader=_loader(fixture), now=NOW)
    assert report.valid
    assert report.warnings


@pytest.fixture
def live(store: Store) -> Iterator[tuple[str, Seeded]]:
    with store.transaction() as tx:
        seeded = seed(tx)
    sock = bind_socket()
    with serve_in_thread(create_issuer_app(store, base_url_of(sock)), sock=sock) as url:
        yield url, seeded


def test_every_hosted_document_of_the_issuer_app_verifies(live: tuple[str, Seeded]) -> None:
    """The hosted assertion (endorsed badge class embedded) verifies over loopback HTTP."""
    url, seeded = live
    loader = DocumentLoader(fetch=http_fetch)
    assertion: Any = httpx2.get(f"{url}/ob/assertions/{seeded.award_hash}").json()
    report = verify_credential(assertion, loader=loader, now=NOW, recipient="Learner@Example.org")
    assert report.outcome is Outcome.VALID, report.to_json()
    badge = verify_credential(f"{url}/ob/badges/{seeded.badge_id}", loader=loader, now=NOW)
    assert badge.outcome is Outcome.VALID, badge.to_json()


def test_revoked_hosted_assertion_is_invalid(live: tuple[str, Seeded], store: Store) -> None:
    """After revocation, the hosted assertion no longer verifies."""
    url, seeded = live
    assertion: Any = httpx2.get(f"{url}/ob/assertions/{seeded.award_hash}").json()
    with store.transaction() as tx:
        tx.awards.revoke(seeded.award_hash, "mistake")
    report = verify_credential(assertion, loader=DocumentLoader(fetch=http_fetch), now=NOW)
    assert report.outcome is Outcome.INVALID
    check = report.check("hosted assertion")
    assert check is not None
    assert check.outcome is CheckOutcome.FAILED
