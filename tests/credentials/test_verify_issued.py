"""Credentials we issue, verified by our verifier over real loopback HTTP."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from typer.testing import CliRunner

from openbackpack.cli import app
from openbackpack.cli._credentials import http_fetch
from openbackpack.credentials import (
    CheckOutcome,
    DocumentLoader,
    Outcome,
    bake_png,
    bake_svg,
    unbake,
    verify_credential,
)
from openbackpack.issuer import CredentialIssuer, IssuerUrls, create_issuer_app
from openbackpack.serve import base_url_of, bind_socket, serve_in_thread
from openbackpack.store import Store
from tests.registry_data import PNG, SVG, Seeded, seed


@pytest.fixture
def seeded(store: Store) -> Seeded:
    with store.transaction() as tx:
        return seed(tx)


@pytest.fixture
def live(store: Store, seeded: Seeded) -> Iterator[str]:
    sock = bind_socket()
    with serve_in_thread(create_issuer_app(store, base_url_of(sock)), sock=sock) as url:
        yield url


def _loopback_fetch(url: str) -> Any:
    # did:web always resolves over https; the test server speaks plain http on loopback.
    return http_fetch(url.replace("https://", "http://", 1))


def _issue(store: Store, award_hash: str, base: str, **options: Any) -> Any:
    with store.transaction() as tx:
        return CredentialIssuer(tx, IssuerUrls(base), **options).credential(award_hash)


def _fetch_credential(live: str, award_hash: str) -> dict[str, Any]:
    with httpx2.Client(base_url=live) as http:
        response = http.get(f"/ob3/credentials/{award_hash}")
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def test_hosted_credential_verifies_with_did_web_and_status(live: str, seeded: Seeded) -> None:
    """A hosted credential verifies: did:web key, status list, dates, schema, endorsement."""
    credential = _fetch_credential(live, seeded.award_hash)
    loader = DocumentLoader(fetch=_loopback_fetch)
    report = verify_credential(credential, loader=loader, recipient="Learner@Example.org")
    assert report.outcome is Outcome.VALID, report.to_json()
    names = {check.name for check in report.checks}
    assert {"proof", "issuer key", "validity dates", "status", "recipient", "schema"} <= names
    assert {"endorsements"} <= names


def test_recipient_mismatch_fails(live: str, seeded: Seeded) -> None:
    """Another email than the recipient's fails the recipient check."""
    credential = _fetch_credential(live, seeded.award_hash)
    report = verify_credential(
        credential, loader=DocumentLoader(fetch=_loopback_fetch), recipient="other@example.org"
    )
    check = report.check("recipient")
    assert check is not None
    assert check.outcome is CheckOutcome.FAILED
    assert report.outcome is Outcome.INVALID


SIGNED_CHANGES: list[tuple[tuple[Any, ...], str]] = [
    (("name",), "Forged"),
    (("validFrom",), "2020-01-01T00:00:00Z"),
    (("credentialSubject", "identifier", 0, "identityHash"), "sha256$00"),
    (("credentialStatus", "statusListIndex"), "7"),
]


def test_changing_any_signed_field_fails(live: str, seeded: Seeded) -> None:
    """A changed signed field makes the proof fail, and nothing is read from unsigned data."""
    original = _fetch_credential(live, seeded.award_hash)
    loader = DocumentLoader(fetch=_loopback_fetch)
    for path, value in SIGNED_CHANGES:
        credential = copy.deepcopy(original)
        target: Any = credential
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        report = verify_credential(credential, loader=loader)
        assert report.outcome is Outcome.INVALID, path
        assert report.check("proof").outcome is CheckOutcome.FAILED  # type: ignore[union-attr]
        status = report.check("status")
        assert status is not None
        assert status.outcome is CheckOutcome.NOT_CHECKED


def test_revoked_award_verifies_as_revoked(live: str, store: Store, seeded: Seeded) -> None:
    """Revoking an award flips its status list bit: the credential verifies as revoked."""
    credential = _fetch_credential(live, seeded.award_hash)
    with store.transaction() as tx:
        tx.awards.revoke(seeded.award_hash, "mistake")
    report = verify_credential(credential, loader=DocumentLoader(fetch=_loopback_fetch))
    check = report.check("status")
    assert check is not None
    assert check.outcome is CheckOutcome.FAILED
    assert "revocation" in check.reason


def test_status_list_served_with_an_error_is_not_checked(
    live: str, store: Store, seeded: Seeded
) -> None:
    """A status list URL that answers an error gives "could not be checked", not "valid"."""
    # Issued under a base the live app does not serve: its status list URL answers 404.
    credential = _issue(store, seeded.award_hash, f"{live}/elsewhere", did_method="key")
    report = verify_credential(credential, loader=DocumentLoader(fetch=_loopback_fetch))
    check = report.check("status")
    assert check is not None
    assert check.outcome is CheckOutcome.NOT_CHECKED
    assert "404" in check.reason
    assert report.outcome is Outcome.INDETERMINATE


def test_status_list_is_large_enough_and_signed(live: str, seeded: Seeded) -> None:
    """The served status list has 131,072 entries and verifies as a credential itself."""
    from openbackpack.credentials import decode_bitstring

    with httpx2.Client(base_url=live) as http:
        listing = http.get("/ob3/issuers/1/status").json()
    assert len(decode_bitstring(listing["credentialSubject"]["encodedList"])) * 8 >= 131_072
    report = verify_credential(listing, loader=DocumentLoader(fetch=_loopback_fetch))
    assert report.outcome is Outcome.VALID, report.to_json()


def test_jwt_and_baked_images_verify(live: str, store: Store, seeded: Seeded) -> None:
    """A VC-JWT, and JSON or JWT baked into PNG and SVG, verify and unbake to themselves."""
    loader = DocumentLoader(fetch=_loopback_fetch)
    token = _issue(store, seeded.award_hash, live, did_method="web")
    jwt = None
    with store.transaction() as tx:
        jwt = CredentialIssuer(tx, IssuerUrls(live)).credential(seeded.award_hash, fmt="jwt")
    assert isinstance(jwt, str)
    assert verify_credential(jwt, loader=loader).outcome is Outcome.VALID
    for payload in (token, jwt):
        for image in (bake_png(PNG, payload), bake_svg(SVG, payload)):
            baked = unbake(image)
            assert baked.is_jwt is isinstance(payload, str)
            report = verify_credential(image, loader=loader)
            assert report.outcome is Outcome.VALID, report.to_json()


def test_status_indexes_are_distinct_under_concurrency(store: Store, seeded: Seeded) -> None:
    """Credentials issued at once for different awards get distinct status indexes."""
    with store.transaction() as tx:
        hashes = [tx.awards.create(seeded.badge_id, f"u{i}@example.org").hash for i in range(6)]
    barrier = threading.Barrier(len(hashes))
    results: dict[str, int] = {}

    def issue(award_hash: str) -> None:
        barrier.wait()
        with store.transaction() as tx:
            results[award_hash] = tx.status_entries.index_of(award_hash)

    threads = [threading.Thread(target=issue, args=(h,)) for h in hashes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == list(range(len(hashes)))


def test_cli_verify_exit_codes(tmp_path: Path, store: Store, seeded: Seeded) -> None:
    """`credential verify` exits 0 valid, 1 invalid, 3 not fully checked; bake/unbake work."""
    data = Path(__file__).resolve().parent.parent / "data" / "ob30-validator"
    runner = CliRunner()
    valid = runner.invoke(app, ["credential", "verify", str(data / "simple.json"), "--json"])
    assert valid.exit_code == 0, valid.output
    assert json.loads(valid.output)["outcome"] == "valid"
    bad = runner.invoke(app, ["credential", "verify", str(data / "simple-err-proof-value.json")])
    assert bad.exit_code == 1
    mapping = tmp_path / "map.json"
    mapping.write_text("{}")
    unknown = runner.invoke(
        app,
        [
            "credential",
            "verify",
            str(data / "bit-string-list/credential-status-revoked.json"),
            "--document-map",
            str(mapping),
        ],
    )
    assert unknown.exit_code == 3, unknown.output
    png = tmp_path / "badge.png"
    png.write_bytes(PNG)
    out = tmp_path / "baked.png"
    baked = runner.invoke(
        app, ["credential", "bake", str(png), str(data / "simple.json"), "-o", str(out)]
    )
    assert baked.exit_code == 0, baked.output
    unbaked = runner.invoke(app, ["credential", "unbake", str(out)])
    assert json.loads(unbaked.output)["id"] == json.loads((data / "simple.json").read_text())["id"]
    garbage = runner.invoke(app, ["credential", "unbake", str(png)])
    assert garbage.exit_code == 1
    assert "Traceback" not in garbage.output


def test_now_is_respected() -> None:
    """A pinned clock decides the validity dates check."""
    data = Path(__file__).resolve().parent.parent / "data" / "ob30-validator"
    early = verify_credential(data / "simple.json", now=datetime(2000, 1, 1, tzinfo=UTC))
    assert early.check("validity dates").outcome is CheckOutcome.FAILED  # type: ignore[union-attr]


def test_p256_es256_credential_verifies_through_did_web(
    live: str, store: Store, seeded: Seeded
) -> None:
    """An ES256 VC-JWT signed with the issuer's P-256 key verifies via its did:web document."""
    with store.transaction() as tx:
        token = CredentialIssuer(tx, IssuerUrls(live)).credential(
            seeded.award_hash, fmt="jwt", algorithm="P-256"
        )
    assert isinstance(token, str)
    report = verify_credential(token, loader=DocumentLoader(fetch=_loopback_fetch))
    assert report.outcome is Outcome.VALID, [
        c for c in report.checks if c.outcome.value != "passed"
    ]
    assert "ES256" in report.check("proof").reason  # type: ignore[union-attr]


def test_status_list_is_signed_again_only_when_it_changes(
    live: str, store: Store, seeded: Seeded
) -> None:
    """The served list keeps its proof until an award is revoked or the key rotates."""
    from openbackpack.credentials import decode_bitstring

    def served() -> dict[str, Any]:
        with httpx2.Client(base_url=live) as http:
            listing: dict[str, Any] = http.get("/ob3/issuers/1/status").json()
        return listing

    first = served()
    assert served()["proof"] == first["proof"]
    with store.transaction() as tx:
        tx.awards.revoke(seeded.award_hash, "mistake")
        index = tx.status_entries.index_of(seeded.award_hash)
    revoked = served()
    assert revoked["proof"] != first["proof"]
    assert index is not None
    bits = decode_bitstring(revoked["credentialSubject"]["encodedList"])
    assert bits[index // 8] & (0x80 >> (index % 8))
    assert served() == revoked
    with store.transaction() as tx:
        CredentialIssuer(tx, IssuerUrls(live)).rotate_key(1)
    rotated = served()
    methods = [
        [proof["verificationMethod"] for proof in listing["proof"]]
        for listing in (revoked, rotated)
    ]
    assert methods[0] != methods[1]
    report = verify_credential(rotated, loader=DocumentLoader(fetch=_loopback_fetch))
    assert report.outcome is Outcome.VALID, report.to_json()


def test_one_loader_checks_each_status_list_once(
    live: str, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials verified with one loader share its status list's verification; two don't."""
    from openbackpack.credentials import _verify

    checked: list[str] = []
    original = _verify.Verifier.document

    def counting(self: _verify.Verifier, document: dict[str, Any], **kwargs: Any) -> Any:
        if kwargs.get("kind") == "status list":
            checked.append(str(document.get("id")))
        return original(self, document, **kwargs)

    monkeypatch.setattr(_verify.Verifier, "document", counting)
    credential = _fetch_credential(live, seeded.award_hash)
    shared = DocumentLoader(fetch=_loopback_fetch)
    for _ in range(3):
        report = verify_credential(credential, loader=shared)
        status = report.check("status")
        assert status is not None
        assert status.outcome is CheckOutcome.PASSED
    assert len(checked) == 1
    verify_credential(credential, loader=DocumentLoader(fetch=_loopback_fetch))
    assert len(checked) == 2


def test_the_served_list_states_its_ttl_and_loaders_sharing_a_cache_fetch_it_once(
    live: str, store: Store, seeded: Seeded
) -> None:
    """The issuer app's list says a minute; fresh loaders over one StatusListCache fetch it once."""
    from openbackpack.credentials import StatusListCache

    fetched: list[str] = []

    def counting_fetch(url: str) -> Any:
        fetched.append(url)
        return _loopback_fetch(url)

    with httpx2.Client(base_url=live) as http:
        listing = http.get("/ob3/issuers/1/status").json()
    assert listing["credentialSubject"]["ttl"] == 60_000
    credential = _fetch_credential(live, seeded.award_hash)
    shared = StatusListCache()
    for _ in range(3):
        loader = DocumentLoader(fetch=counting_fetch, status_lists=shared)
        assert verify_credential(credential, loader=loader).outcome is Outcome.VALID
    assert fetched.count(f"{live}/ob3/issuers/1/status") == 1


def test_an_issuer_app_can_state_no_ttl_and_refuses_a_bad_one(store: Store) -> None:
    """status_list_ttl=None serves lists without ttl; zero or less is a typed error."""
    from openbackpack._exceptions import InvalidInputError

    sock = bind_socket()
    quiet = create_issuer_app(store, base_url_of(sock), status_list_ttl=None)
    with store.transaction() as tx:
        seed(tx)
    with serve_in_thread(quiet, sock=sock) as url, httpx2.Client(base_url=url) as http:
        listing = http.get("/ob3/issuers/1/status").json()
    assert "ttl" not in listing["credentialSubject"]
    with pytest.raises(InvalidInputError, match="status_list_ttl"):
        create_issuer_app(store, "https://lms.example.org", status_list_ttl=0)
