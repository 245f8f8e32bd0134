from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
import pytest
from typer.testing import CliRunner

from openbackpack._exceptions import InvalidInputError
from openbackpack.cli import app
from openbackpack.credentials import (
    DocumentLoader,
    public_key_from_multikey,
    verify_data_integrity_proof,
)
from openbackpack.credentials._did import did_web_url
from openbackpack.issuer import CredentialIssuer, IssuerUrls, create_issuer_app
from openbackpack.models import hash_identity
from openbackpack.models.ob3 import OpenBadgeCredential
from openbackpack.serve import base_url_of, bind_socket, serve_in_thread
from openbackpack.store import SecretBox, Store
from tests.registry_data import PNG, Seeded, seed

BASE = "https://badges.example.org"
SCHEMA = (
    Path(__file__).resolve().parents[2]
    / "src/openbackpack/credentials/data/schemas/achievementcredential.json"
)


@pytest.fixture
def seeded(store: Store) -> Seeded:
    with store.transaction() as tx:
        return seed(tx)


def _issue(store: Store, award_hash: str, base: str = BASE) -> dict[str, Any]:
    with store.transaction() as tx:
        signed = CredentialIssuer(tx, IssuerUrls(base)).credential(award_hash)
    assert isinstance(signed, dict)
    return signed


def _did_key(store: Store, issuer_id: int, method: str) -> Any:
    with store.transaction() as tx:
        document = CredentialIssuer(tx, IssuerUrls(BASE)).did_document(issuer_id)
    found = [m for m in document["verificationMethod"] if m["id"] == method]
    assert len(found) == 1
    return public_key_from_multikey(found[0]["publicKeyMultibase"])


def test_issued_credential_carries_the_award(store: Store, seeded: Seeded) -> None:
    """An award's credential has the hashed salted email, achievement, evidence and status."""
    credential = _issue(store, seeded.award_hash)
    model = OpenBadgeCredential.model_validate(credential)
    subject = model.credential_subject
    assert subject.identifier is not None
    assert subject.identifier[0].identity_hash == hash_identity("Learner@Example.org", "pepper")
    assert subject.identifier[0].salt == "pepper"
    assert subject.achievement.criteria.narrative == "Do the *example*."
    assert subject.achievement.alignment is not None
    assert subject.achievement.alignment[0].target_code == "S1"
    assert subject.achievement.endorsement is not None
    assert model.evidence is not None
    assert model.evidence[0].id == "https://example.org/work/1"
    assert model.credential_status is not None
    assert model.credential_status.type == "BitstringStatusListEntry"
    assert model.issuer_id == "did:web:badges.example.org:ob:issuers:1"


def test_issued_credential_validates_against_the_ob3_schema(store: Store, seeded: Seeded) -> None:
    """What we issue satisfies the 1EdTech AchievementCredential JSON Schema."""
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(_issue(store, seeded.award_hash), schema)


def test_issued_proofs_verify_with_the_did_document_keys(store: Store, seeded: Seeded) -> None:
    """The credential's and the embedded endorsement's proofs verify with the DID's keys."""
    credential = _issue(store, seeded.award_hash)
    loader = DocumentLoader()
    proof = credential["proof"][0]
    verify_data_integrity_proof(
        credential, proof, _did_key(store, 1, proof["verificationMethod"]), loader
    )
    endorsement = credential["credentialSubject"]["achievement"]["endorsement"][0]
    e_proof = endorsement["proof"][0]
    e_key = _did_key(store, seeded.endorser_id, e_proof["verificationMethod"])
    verify_data_integrity_proof(endorsement, e_proof, e_key, loader)


def test_private_keys_are_sealed_in_the_database(store: Store, seeded: Seeded) -> None:
    """The signing key's private half is never in the database in plain text."""
    _issue(store, seeded.award_hash)
    with store.transaction() as tx:
        rows = tx.connection.exec_driver_sql("SELECT private_key FROM issuer_keys").all()
        key = tx.issuer_keys.list(1)[0]
    assert rows
    assert all("PRIVATE KEY" not in row[0] for row in rows)
    assert "PRIVATE KEY" in key.private_key.reveal()
    assert "PRIVATE" not in repr(key)


def test_rotation_keeps_the_retired_key_in_the_did_document(store: Store, seeded: Seeded) -> None:
    """After rotation, new credentials use the new key and old ones still verify."""
    old = _issue(store, seeded.award_hash)
    with store.transaction() as tx:
        CredentialIssuer(tx, IssuerUrls(BASE)).rotate_key(1)
    new = _issue(store, seeded.award_hash)
    old_method = old["proof"][0]["verificationMethod"]
    assert new["proof"][0]["verificationMethod"] != old_method
    loader = DocumentLoader()
    verify_data_integrity_proof(old, old["proof"][0], _did_key(store, 1, old_method), loader)
    with store.transaction() as tx:
        keys = tx.issuer_keys.list(1)
    assert [k.active for k in keys] == [False, True]


def test_the_status_index_of_an_award_is_stable(store: Store, seeded: Seeded) -> None:
    """An award keeps the status list index it was first given."""
    first = _issue(store, seeded.award_hash)["credentialStatus"]["statusListIndex"]
    second = _issue(store, seeded.award_hash)["credentialStatus"]["statusListIndex"]
    assert first == second == "0"


def test_an_index_asked_with_another_badge_class_is_refused(store: Store, seeded: Seeded) -> None:
    """index_for checks that the badge class it is handed is the award's, and assigns nothing."""
    with store.transaction() as tx:
        issuer_id = tx.badge_classes.get(seeded.badge_id).issuer_id
        other = tx.badge_classes.create(
            issuer_id, "Other", "Another badge.", PNG, criteria_narrative="x"
        )
        award = tx.awards.get(seeded.award_hash)
        with pytest.raises(InvalidInputError, match="is not the badge class of award"):
            tx.status_entries.index_for(award, other)
        index = tx.status_entries.index_for(award, tx.badge_classes.get(seeded.badge_id))
    with store.transaction() as tx:
        assert tx.status_entries.index_of(seeded.award_hash) == index == 0


def test_did_key_issuer(store: Store, seeded: Seeded) -> None:
    """With did:key, the issuer is the did:key of its active key and the proof names it."""
    with store.transaction() as tx:
        signed = CredentialIssuer(tx, IssuerUrls(BASE), did_method="key").credential(
            seeded.award_hash
        )
    assert isinstance(signed, dict)
    did = signed["issuer"]["id"]
    assert did.startswith("did:key:z6Mk")
    method = signed["proof"][0]["verificationMethod"]
    assert method == f"{did}#{did.removeprefix('did:key:')}"
    key = public_key_from_multikey(did.removeprefix("did:key:"))
    verify_data_integrity_proof(signed, signed["proof"][0], key, DocumentLoader())


@pytest.fixture
def live(store: Store, seeded: Seeded) -> Iterator[str]:
    sock = bind_socket()
    with serve_in_thread(create_issuer_app(store, base_url_of(sock)), sock=sock) as url:
        yield url


def test_hosted_credential_and_did_documents_over_http(live: str, seeded: Seeded) -> None:
    """The issuer app serves the credential beside the assertion, and the DIDs it names."""
    with httpx2.Client(base_url=live) as http:
        credential = http.get(f"/ob3/credentials/{seeded.award_hash}").json()
        assert http.get(f"/ob/assertions/{seeded.award_hash}").status_code == 200
        did = credential["issuer"]["id"]
        path = did_web_url(did).split("/", 3)[3]
        document = http.get("/" + path).json()
        site = http.get("/.well-known/did.json").json()
    assert document["id"] == did
    method = credential["proof"][0]["verificationMethod"]
    assert method in document["assertionMethod"]
    assert {m["id"].split("#")[1] for m in site["verificationMethod"]} >= {method.split("#")[1]}


def test_cli_award_format_ob3_and_key_rotation(tmp_path: Path, monkeypatch: Any) -> None:
    """`award --format ob3` prints a signed credential; `issuer keys rotate` retires the key."""
    monkeypatch.setenv("OPENBACKPACK_SECRET_KEY", SecretBox.generate_key())
    db = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    runner = CliRunner()
    with Store.open(db, migrate=True) as store, store.transaction() as tx:
        seeded = seed(tx)
    args = ["--db", db, "award", str(seeded.badge_id), "a@example.org", "--base-url", BASE]
    result = runner.invoke(app, [*args, "--format", "ob3"])
    assert result.exit_code == 0, result.output
    credential = json.loads(result.output)
    assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    jwt = runner.invoke(app, [*args, "--format", "ob3-jwt"])
    assert jwt.exit_code == 0
    assert jwt.output.count(".") == 2
    missing = runner.invoke(app, ["--db", db, "award", "1", "a@example.org", "--format", "ob3"])
    assert missing.exit_code == 2
    rotated = runner.invoke(app, ["--db", db, "issuer", "keys", "rotate", "1"])
    assert rotated.exit_code == 0, rotated.output
    listed = runner.invoke(app, ["--db", db, "issuer", "keys", "list", "1"])
    assert listed.output.count("retired") == 1
    assert listed.output.count("active") == 1
