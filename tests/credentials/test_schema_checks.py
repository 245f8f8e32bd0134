"""The shipped JSON Schemas are validated once per credential, and the same from any thread."""

from __future__ import annotations

import threading
from typing import Any

import jsonschema
import pytest

from openbackpack.credentials import DocumentLoader, Outcome, verify_credential
from tests.credentials.conftest import DATA, read_json

FIXTURE = DATA / "ob30-validator" / "endorsement-valid.json"


def test_a_credential_schema_naming_the_shipped_schema_is_not_validated_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its credentialSchema is the schema the kind's check used: one validation, two checks."""
    validations: list[Any] = []
    real = jsonschema.Draft201909Validator.iter_errors

    def counted(validator: Any, instance: Any, *args: Any) -> Any:
        if validator.schema.get("$id", "").startswith("https://purl.imsglobal.org"):
            validations.append(validator.schema["$id"])
        return real(validator, instance, *args)

    monkeypatch.setattr(jsonschema.Draft201909Validator, "iter_errors", counted)
    report = verify_credential(read_json(FIXTURE), loader=DocumentLoader())
    assert report.outcome is Outcome.VALID, report.to_json()
    schema, named = report.check("schema"), report.check("credential schema")
    assert schema is not None
    assert named is not None
    assert schema.outcome.value == named.outcome.value == "passed"
    assert len(validations) == 1


def test_threads_verifying_at_once_reach_the_same_schema_outcomes() -> None:
    """Eight threads verifying one valid and one broken credential at once agree with one."""
    valid = read_json(FIXTURE)
    broken = {**valid, "credentialSubject": {"type": ["AchievementSubject"]}}
    alone = [verify_credential(d, loader=DocumentLoader()).to_json() for d in (valid, broken)]
    barrier = threading.Barrier(8)
    seen: list[list[Any]] = []

    def verify() -> None:
        barrier.wait()
        seen.append(
            [verify_credential(d, loader=DocumentLoader()).to_json() for d in (valid, broken)]
        )

    threads = [threading.Thread(target=verify) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8
    assert all(outcomes == alone for outcomes in seen)
    assert alone[0]["outcome"] == "valid"
    assert alone[1]["outcome"] == "invalid"
