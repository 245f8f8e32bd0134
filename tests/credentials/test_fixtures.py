"""Every 1EdTech validator fixture gives its expected outcome, for the expected reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from openbackpack.credentials import (
    CheckOutcome,
    DocumentLoader,
    Outcome,
    VerificationReport,
    verify_credential,
)
from tests.credentials.conftest import DATA, OB30, read_json

NOW = datetime(2027, 1, 1, tzinfo=UTC)  # inside the manifest's verification_time window
MANIFEST = read_json(OB30 / "MANIFEST.json")

# file -> (our outcome, the check that decides it). "valid-with-warnings" is valid here, with
# the warnings in report.warnings. Where the offline answer differs from the upstream one the
# comment says why; the upstream validator fetches from the network.
EXPECTED: dict[str, tuple[Outcome, str | None]] = {
    "bit-string-list/credential-status-revoked.json": (Outcome.INVALID, "status"),
    "bit-string-list/testlist": (Outcome.VALID, None),
    # Divergent (see DIVERGES): the revocation list, the endorsements' own schemas and their
    # suite "eddsa-rdf-2022" can all not be checked; nothing checkable is wrong.
    "complete.json": (Outcome.INDETERMINATE, "status"),
    # Divergent (see DIVERGES): its proof verifies with the fragment's key, but neither the
    # did:web document nor the revocation list can be read offline.
    "credential-status-revoked.json": (Outcome.INDETERMINATE, "issuer key"),
    "endorsement-valid.json": (Outcome.VALID, None),
    "sd/derivedcredential.json": (Outcome.VALID, None),
    "simple-context-alias.json": (Outcome.VALID, None),
    "simple-did-key-method.json": (Outcome.VALID, None),
    "simple-eddsa-2022.json": (Outcome.VALID, None),
    "simple-err-context.json": (Outcome.INVALID, "context"),
    "simple-err-credential-subject-profile-type.json": (Outcome.INVALID, "schema"),
    "simple-err-credential-subject-result-type.json": (Outcome.INVALID, "schema"),
    "simple-err-credential-subject-type.json": (Outcome.INVALID, "schema"),
    "simple-err-evidence-type.json": (Outcome.INVALID, "schema"),
    "simple-err-expired.json": (Outcome.INVALID, "validity dates"),
    "simple-err-issued.json": (Outcome.INVALID, "validity dates"),
    "simple-err-issuer-type.json": (Outcome.INVALID, "schema"),
    "simple-err-issuer.json": (Outcome.INVALID, "schema"),
    "simple-err-proof-method-no-scheme.json": (Outcome.INVALID, "issuer key"),
    "simple-err-proof-method.json": (Outcome.INVALID, "issuer key"),
    "simple-err-proof-value.json": (Outcome.INVALID, "proof"),
    "simple-err-type.json": (Outcome.INVALID, "type"),
    "simple-json.png": (Outcome.VALID, None),
    "simple-json.svg": (Outcome.VALID, None),
    "simple-jwt.png": (Outcome.VALID, None),
    "simple-jwt.svg": (Outcome.VALID, None),
    "simple-jwt_v1.png": (Outcome.VALID, None),
    "simple-multiple-proofs.json": (Outcome.INVALID, "proof"),
    "simple.json": (Outcome.VALID, None),
    "simple.jwt": (Outcome.INVALID, "issuer key"),  # not asserted upstream; by code reading
    "simple_v1.json": (Outcome.VALID, None),
}
# The fixtures whose offline outcome is not the upstream one, and why (docs/credentials.md).
DIVERGES = {
    "complete.json": "upstream fails on fetching the endorsements' third-party schemas"
    " (accrediter.edu, state.gov), which offline are unread, not wrong",
    "credential-status-revoked.json": "the live 1EdTechRevocationList revoking it is in no"
    " repository, so its status cannot be checked offline",
}
UPSTREAM = {
    "valid": Outcome.VALID,
    "valid-with-warnings": Outcome.VALID,
    "invalid": Outcome.INVALID,
}


def _loader() -> DocumentLoader:
    return DocumentLoader({url: OB30 / path for url, path in MANIFEST["url_map"].items()})


def _decided_by(report: VerificationReport, name: str | None, outcome: Outcome) -> None:
    assert report.outcome is outcome, report.to_json()
    if name is None:
        return
    wanted = CheckOutcome.FAILED if outcome is Outcome.INVALID else CheckOutcome.NOT_CHECKED
    assert any(c.name == name and c.outcome is wanted for c in report.checks), report.to_json()


def test_every_manifest_fixture_is_listed() -> None:
    """The table covers every fixture, and differs from upstream exactly where DIVERGES says."""
    files = {entry["file"] for entry in MANIFEST["fixtures"]}
    assert files == set(EXPECTED)
    differs = {
        entry["file"]
        for entry in MANIFEST["fixtures"]
        if UPSTREAM.get(entry["expected"]) not in (None, EXPECTED[entry["file"]][0])
    }
    assert differs == set(DIVERGES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_gives_its_expected_outcome(name: str) -> None:
    """Each fixture verifies to its expected outcome, decided by the expected check."""
    outcome, check = EXPECTED[name]
    report = verify_credential(OB30 / name, loader=_loader(), now=NOW)
    _decided_by(report, check, outcome)


def test_revoked_by_1edtech_revocation_list_with_the_list_mapped() -> None:
    """With its DID document and revocation list mapped, the revoked fixture is invalid."""
    extras = DATA / "offline-extras"
    wellspring = "https://dc.1edtech.org/wellspring2022/wellspring-portal"
    org = "da1e96e9-afcc-4eed-b9a2-2ddf7353214c"
    loader = DocumentLoader(
        {
            f"{wellspring}/org/{org}/did.json": extras / "wellspring-did.json",
            f"{wellspring}/api/revocations/{org}": extras / "wellspring-revocations.json",
        }
    )
    report = verify_credential(OB30 / "credential-status-revoked.json", loader=loader, now=NOW)
    _decided_by(report, "status", Outcome.INVALID)
    assert report.check("proof") is not None
    assert report.check("proof").outcome is CheckOutcome.PASSED  # type: ignore[union-attr]


def test_a_status_list_that_cannot_be_fetched_is_not_checked() -> None:
    """Without the status list, the revoked bitstring fixture is "could not be checked"."""
    report = verify_credential(
        OB30 / "bit-string-list/credential-status-revoked.json", loader=DocumentLoader(), now=NOW
    )
    _decided_by(report, "status", Outcome.INDETERMINATE)


def test_outdated_forms_are_warned_about() -> None:
    """VC 1.1 and old OB contexts verify with warnings naming them."""
    report = verify_credential(OB30 / "simple_v1.json", loader=_loader(), now=NOW)
    assert report.valid
    assert any("1.1" in warning for warning in report.warnings)


def test_recipient_check(tmp_path: Path) -> None:
    """--recipient passes for the hashed email of complete.json's subject, and fails otherwise."""
    ok = verify_credential(OB30 / "simple-json.png", loader=_loader(), now=NOW, recipient="x@y.z")
    check = ok.check("recipient")
    assert check is not None
    assert check.outcome is CheckOutcome.FAILED


def test_revoked_by_its_list_even_with_the_did_document_unread() -> None:
    """With only its revocation list mapped, the fixture is invalid by status, key unbound."""
    extras = DATA / "offline-extras"
    url = (
        "https://dc.1edtech.org/wellspring2022/wellspring-portal/api/revocations/"
        "da1e96e9-afcc-4eed-b9a2-2ddf7353214c"
    )
    loader = DocumentLoader({url: extras / "wellspring-revocations.json"})
    report = verify_credential(OB30 / "credential-status-revoked.json", loader=loader, now=NOW)
    _decided_by(report, "status", Outcome.INVALID)
    outcomes = {check.name: check.outcome for check in report.checks}
    assert outcomes["proof"] is CheckOutcome.PASSED
    assert outcomes["issuer key"] is CheckOutcome.NOT_CHECKED


def test_an_unreadable_did_web_document_leaves_the_signer_unknown() -> None:
    """Offline, the did:web fixture's proof verifies but its key is said not to be bound."""
    report = verify_credential(OB30 / "credential-status-revoked.json", loader=_loader(), now=NOW)
    key, proof, status = (report.check(name) for name in ("issuer key", "proof", "status"))
    assert key is not None
    assert key.outcome is CheckOutcome.NOT_CHECKED
    assert "not known to be the issuer's" in key.reason
    assert proof is not None
    assert proof.outcome is CheckOutcome.PASSED
    assert status is not None
    assert status.outcome is CheckOutcome.NOT_CHECKED


def test_complete_json_says_what_could_not_be_checked() -> None:
    """complete.json's own schema passes; its endorsements name the misspelt suite, unread."""
    report = verify_credential(OB30 / "complete.json", loader=_loader(), now=NOW)
    assert report.outcome is Outcome.INDETERMINATE, report.to_json()
    schema = report.check("credential schema")
    assert schema is not None
    assert schema.outcome is CheckOutcome.PASSED
    assert "ob_v3p0_achievementcredential_schema.json" in schema.reason
    endorsements = [c for c in report.checks if c.name == "endorsements"]
    assert endorsements
    for check in endorsements:
        assert check.outcome is CheckOutcome.NOT_CHECKED
        assert "'eddsa-rdf-2022'" in check.reason
        assert "did the issuer mean 'eddsa-rdfc-2022'?" in check.reason
        assert "https://accrediter.edu/schema/endorsementcredential.json" in check.reason


@pytest.mark.parametrize(
    ("schema_url", "outcome"),
    [
        (
            "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_badge_schema.json",
            CheckOutcome.FAILED,
        ),
        ("https://schemas.example.org/badge.json", CheckOutcome.NOT_CHECKED),
        (
            "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
            "ob_v3p0_anyendorsementcredential_schema.json",
            CheckOutcome.PASSED,
        ),
    ],
)
def test_credential_schemas_by_where_they_live(schema_url: str, outcome: CheckOutcome) -> None:
    """An unpublished OB 3.0 schema name fails; an unknown elsewhere is not checked."""
    document = read_json(OB30 / "endorsement-valid.json")
    document["credentialSchema"] = [{"id": schema_url, "type": "1EdTechJsonSchemaValidator2019"}]
    report = verify_credential(document, loader=_loader(), now=NOW)
    check = report.check("credential schema")
    assert check is not None
    assert check.outcome is outcome, report.to_json()


def test_a_key_taken_from_an_https_method_s_fragment_is_warned_about() -> None:
    """A valid credential whose key is only its own fragment's Multikey says so in a warning."""
    report = verify_credential(OB30 / "simple.json", loader=_loader(), now=NOW)
    assert report.valid
    assert any("nothing but the credential ties the key" in w for w in report.warnings), (
        report.to_json()
    )


def test_a_relative_iri_as_a_context_is_a_failed_proof_not_an_exception() -> None:
    """pyld's ValueError for a relative IRI context becomes a report, never a raise."""
    document = read_json(OB30 / "simple.json")
    document["@context"] = [*document["@context"], "¡not an iri"]
    report = verify_credential(document, loader=_loader(), now=NOW)
    assert report.outcome is Outcome.INVALID
    proof = report.check("proof")
    assert proof is not None
    assert proof.outcome is CheckOutcome.FAILED
    assert "relative IRI" in proof.reason


def test_credentials_verify_from_many_threads_at_once() -> None:
    """Many threads verifying at once (pyld's caches take turns on one lock) all get valid."""
    from concurrent.futures import ThreadPoolExecutor

    names = ["simple.json", "simple-eddsa-2022.json", "endorsement-valid.json", "simple_v1.json"]
    loader = _loader()

    def verify(index: int) -> Outcome:
        return verify_credential(OB30 / names[index % len(names)], loader=loader, now=NOW).outcome

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(verify, range(64)))
    assert outcomes == [Outcome.VALID] * 64
