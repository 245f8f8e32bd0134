from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openbackpack.models.ob3 import EndorsementCredential, OpenBadgeCredential
from tests.credentials.conftest import OB3_VECTOR, OB30, read_json

VALID = ["simple.json", "simple_v1.json", "complete.json", "simple-did-key-method.json"]


@pytest.mark.parametrize("name", VALID)
def test_fixture_credentials_read_into_the_model(name: str) -> None:
    """Every well-formed 1EdTech sample credential reads into OpenBadgeCredential."""
    credential = OpenBadgeCredential.model_validate(read_json(OB30 / name))
    assert credential.credential_subject.achievement.name
    assert credential.issuer_id


def test_unknown_properties_survive_a_round_trip() -> None:
    """Properties the model does not name are kept, at the top and in nested objects."""
    data = read_json(OB3_VECTOR / "vector.json")["credential"]
    data["credentialSubject"]["achievement"]["x-local"] = {"kept": True}
    data["x-top"] = 1
    out = OpenBadgeCredential.model_validate(data).to_json()
    assert out["credentialSubject"]["achievement"]["x-local"] == {"kept": True}
    assert out["x-top"] == 1
    assert out["@context"] == data["@context"]


def test_vcdm_1_1_dates_are_read_as_the_validity_window() -> None:
    """issuanceDate (VC 1.1) answers ``starts`` when validFrom is absent."""
    credential = OpenBadgeCredential.model_validate(read_json(OB30 / "simple_v1.json"))
    assert credential.valid_from is None
    assert credential.starts == datetime(2010, 1, 1, tzinfo=UTC)


def test_single_type_and_single_proof_become_lists() -> None:
    """A string ``type`` and a proof object are read as one-element lists."""
    data = read_json(OB3_VECTOR / "vector.json")["signedCredential"]
    data["credentialSubject"]["type"] = "AchievementSubject"
    credential = OpenBadgeCredential.model_validate(data)
    assert credential.credential_subject.type == ["AchievementSubject"]
    assert credential.proof is not None
    assert len(credential.proof) == 1


def test_endorsement_credential_reads() -> None:
    """The sample EndorsementCredential reads with its endorsement comment."""
    endorsement = EndorsementCredential.model_validate(read_json(OB30 / "endorsement-valid.json"))
    assert "EndorsementCredential" in endorsement.type
    assert endorsement.credential_subject.id
