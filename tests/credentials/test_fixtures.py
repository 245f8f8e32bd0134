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
    # Upstream "invalid" comes from a live 404 of a schema reference; offline, the 1EdTech
    # revocation list cannot be fetched and the endorsements use the misspelt suite
    # "eddsa-rdf-2022", so the honest answer is "could not be fully checked".
    "complete.json": (Outcome.INDETERMINATE, "status"),
    # Upstream "invalid" needs the live revocation list (see the test with a document map).
    "credential-status-revoked.json": (Outcome.INDETERMINATE, "issuer key"),
    "endorsement-valid.json": (Outcome.VALID, None),
    # ecdsa-sd-2023 (selective disclosure) is not implemented here.
    "sd/derivedcredential.json": (Outcome.INDETERMINATE, "proof"),
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
    """The table covers every fixture of the manifest, and agrees with it where we can."""
    files = {entry["file"] for entry in MANIFEST["fixtures"]}
    assert files == set(EXPECTED)
    differs = {
        entry["file"]
        for entry in MANIFEST["fixtures"]
        if UPSTREAM.get(entry["expected"]) not in (None, EXPECTED[entry["file"]][0])
    }
    assert differs == {
        "complete.json",
        "credential-status-revoked.json",
        "sd/derivedcredential.json",
    }


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
