"""The shipped JSON Schemas are validated once per credential, and the same from any thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbackpack.credentials import DocumentLoader, Outcome, _checks, verify_credential
from tests.credentials.conftest import DATA, read_json

FIXTURE = DATA / "ob30-validator" / "endorsement-valid.json"


def test_a_credential_schema_naming_the_shipped_schema_is_not_validated_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its credentialSchema is the schema the kind's check used: one validation, two checks."""
    validations: list[str] = []
    real = _checks._shipped_errors

    def counted(name: str, document: dict[str, Any]) -> Any:
        validations.append(name)
        return real(name, document)

    monkeypatch.setattr(_checks, "_shipped_errors", counted)
    report = verify_credential(read_json(FIXTURE), loader=DocumentLoader())
    assert report.outcome is Outcome.VALID, report.to_json()
    schema, named = report.check("schema"), report.check("credential schema")
    assert schema is not None
    assert named is not None
    assert schema.outcome.value == named.outcome.value == "passed"
    assert len(validations) == 1


def _at_once(count: int, work: Callable[[], None]) -> None:
    """Run ``work`` on ``count`` threads released together by a barrier; wait for them all."""
    barrier = threading.Barrier(count)

    def released() -> None:
        barrier.wait()
        work()

    threads = [threading.Thread(target=released) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_threads_verifying_at_once_reach_the_same_schema_outcomes() -> None:
    """Eight threads verifying one valid and one broken credential at once agree with one."""
    valid = read_json(FIXTURE)
    broken = {**valid, "credentialSubject": {"type": ["AchievementSubject"]}}
    alone = [verify_credential(d, loader=DocumentLoader()).to_json() for d in (valid, broken)]
    seen: list[list[Any]] = []

    def verify() -> None:
        seen.append(
            [verify_credential(d, loader=DocumentLoader()).to_json() for d in (valid, broken)]
        )

    _at_once(8, verify)
    assert len(seen) == 8
    assert all(outcomes == alone for outcomes in seen)
    assert alone[0]["outcome"] == "valid"
    assert alone[1]["outcome"] == "invalid"


def test_threads_starting_at_once_share_one_fast_validator_built_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sixteen new threads asking at once get one jsonschema-rs validator, built one time."""
    built: list[str] = []
    real = jsonschema_rs.Draft201909Validator

    def counted(schema: dict[str, Any], **options: Any) -> jsonschema_rs.Draft201909Validator:
        built.append(str(schema.get("$id")))
        return real(schema, **options)

    monkeypatch.setattr(_checks, "_fast_validators", {})
    monkeypatch.setattr(jsonschema_rs, "Draft201909Validator", counted)
    valid = _checks._proof_list(read_json(FIXTURE))
    got: list[tuple[int, bool]] = []

    def check() -> None:
        validator = _checks._fast_validator("endorsementcredential.json")
        got.append((id(validator), validator.is_valid(valid)))

    _at_once(16, check)
    assert len(built) == 1
    assert len(got) == 16
    assert len({validator for validator, _ in got}) == 1
    assert all(verdict for _, verdict in got)


# ---------------------------------------------------------------- the fast verdict

SCHEMAS = ("achievementcredential.json", "endorsementcredential.json", "profile.json")
_CREDENTIALS = [
    document
    for path in sorted(DATA.rglob("*.json"))
    if isinstance(document := read_json(path), dict) and "credentialSubject" in document
]
# Values that meet the schemas' types, patterns and enums in some places and not in others.
_ODD_VALUES: list[Any] = [
    None, True, 0, 1, 1.0, -3, 2.5, "", "x", "ext:a.b-c_d", "ext:", "en", "en-Latn-US", "e-n",
    "a.b.c", "a..b", "\u0663", "2024-01-01T00:00:00Z", "not a date", [], ["x"], {}, {"id": 1},
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.\u0663.3.json",
    "VerifiableCredential", ["VerifiableCredential", "OpenBadgeCredential"],
    # jsonschema reads patterns as Python does (\d is any digit, $ allows a final newline),
    # jsonschema-rs as ECMA 262: stricter, so its "invalid" is walked again and agrees.
    "ext:a\n", "en\n", "en-US\n", "a.b.c\n", "ext:-", "ext:|", "ext:\u00e9",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json\n",
]  # fmt: skip


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document, the root first."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutated(document: Any, path: tuple[Any, ...], edit: str, odd: Any) -> Any:
    """``document`` with the value at ``path`` replaced, removed, or given an extra key."""
    copy = json.loads(json.dumps(document))
    if not path:
        return copy if edit != "replace" else odd
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if edit == "remove":
        del parent[last]
    elif edit == "extra" and isinstance(parent[last], dict):
        parent[last]["unexpected"] = odd
    else:
        parent[last] = odd
    return copy


def _agree(name: str, document: Any) -> None:
    """The errors reported with the fast verdict are jsonschema's own, message for message."""
    if not isinstance(document, dict):
        return  # the schema check takes objects only (a replaced root may be anything)
    slow = jsonschema.Draft201909Validator(_checks._shipped_schema(name))
    expected = [e.message for e in slow.iter_errors(_checks._proof_list(document))]
    reported = [e.message for e in _checks._shipped_errors(name, document)]
    assert sorted(reported) == sorted(expected), (name, document)


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_fast_verdict_agrees_with_jsonschema_on_every_stored_credential(name: str) -> None:
    """Every test-data credential gets jsonschema's errors (or none) against each schema."""
    assert len(_CREDENTIALS) >= 20
    for document in _CREDENTIALS:
        _agree(name, document)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_fast_verdict_agrees_with_jsonschema_on_edited_credentials(data: st.DataObject) -> None:
    """Any one value of a credential replaced, removed or extended: jsonschema's errors."""
    document = data.draw(st.sampled_from(_CREDENTIALS))
    path = data.draw(st.sampled_from(_paths(document)))
    edit = data.draw(st.sampled_from(["replace", "remove", "extra"]))
    odd = data.draw(st.sampled_from(_ODD_VALUES))
    edited = _mutated(document, path, edit, odd)
    for name in SCHEMAS:
        _agree(name, edited)


def test_a_schema_error_is_reported_as_before_the_fast_verdict() -> None:
    """An invalid credential still gets jsonschema's error, path and count in its report."""
    valid = read_json(FIXTURE)
    broken = {**valid, "credentialSubject": {"type": ["AchievementSubject"]}}
    report = verify_credential(broken, loader=DocumentLoader())
    check = report.check("schema")
    assert check is not None
    assert check.outcome.value == "failed"
    assert "errors against endorsementcredential.json; first at credentialSubject" in check.reason


def test_where_jsonschema_rs_is_stricter_jsonschema_decides() -> None:
    """An OB context URL with an Arabic-Indic digit (a digit to Python's re): valid, as before."""
    name = "achievementcredential.json"
    slow = jsonschema.Draft201909Validator(_checks._shipped_schema(name))
    valid = next(
        d
        for d in _CREDENTIALS
        if not list(slow.iter_errors(_checks._proof_list(d)))
        and str(d["@context"][1]).endswith("context-3.0.3.json")
    )
    odd = json.loads(json.dumps(valid))
    odd["@context"][1] = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.\u0663.3.json"
    assert not _checks._fast_validator(name).is_valid(_checks._proof_list(odd))
    assert _checks._shipped_errors(name, odd) == []


def test_a_document_jsonschema_rs_cannot_read_is_left_to_jsonschema() -> None:
    """A value that is not JSON (a datetime) is judged by jsonschema, not refused by a crash."""
    valid = read_json(FIXTURE)
    odd = {**valid, "validFrom": datetime.now(UTC)}
    with pytest.raises(ValueError, match="Unsupported type"):
        _checks._fast_validator("endorsementcredential.json").is_valid(odd)
    errors = _checks._shipped_errors("endorsementcredential.json", odd)
    assert [list(e.absolute_path) for e in errors] == [["validFrom"]]
