"""The checks of a credential besides its proof: contexts, types, schemas, dates, recipient."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Final

import jsonschema
import jsonschema_rs

from openbackpack._exceptions import DocumentUnavailableError
from openbackpack.credentials._loader import DocumentLoader
from openbackpack.credentials._report import VerificationReport
from openbackpack.credentials._signed import CRED, OB, SignedGraph
from openbackpack.models import match_recipient
from openbackpack.models.ob3 import VC1_CONTEXT, VC2_CONTEXT

__all__ = [
    "SCHEMA_IDS",
    "check_context",
    "check_credential_schemas",
    "check_dates",
    "check_recipient",
    "check_schema",
    "check_type",
]

_OB3: Final = "https://purl.imsglobal.org/spec/ob/v3p0/"
_OB3_CONTEXTS: Final = {
    _OB3 + "context-3.0.3.json": None,
    _OB3 + "context-3.0.2.json": "OB context 3.0.2 is outdated",
    _OB3 + "context-3.0.1.json": "OB context 3.0.1 is outdated",
    _OB3 + "context.json": "the unversioned OB context is outdated",
}
_SCHEMAS: Final = _OB3 + "schema/json/ob_v3p0_"
SCHEMA_IDS: Final = {
    _SCHEMAS + "achievementcredential-jsonschema1.json": "achievementcredential.json",
    _SCHEMAS + "endorsementcredential-jsonschema1.json": "endorsementcredential.json",
    _SCHEMAS + "profile-jsonschema1.json": "profile.json",
    _SCHEMAS + "achievementcredential_schema.json": "achievementcredential.json",
    _SCHEMAS + "anyachievementcredential_schema.json": "achievementcredential.json",
    _SCHEMAS + "endorsementcredential_schema.json": "endorsementcredential.json",
    _SCHEMAS + "anyendorsementcredential_schema.json": "endorsementcredential.json",
    _SCHEMAS + "profile_schema.json": "profile.json",
}
"""The shipped OB 3.0 JSON Schemas, by ``$id`` and by the URLs credentials cite them under.

Credentials cite ``…_schema.json`` names, the URLs the OB 3.0 specification lists (§1.2.3,
"available online"); the published build carries ``…-jsonschema1.json`` ``$id`` values. Both
name the same 1EdTech schemas, so both are answered with the shipped copy.
"""
_PUBLISHED_ELSEWHERE: Final = frozenset(
    _SCHEMAS + name
    for name in (
        "getopenbadgecredentialsresponse_schema.json",
        "getopenbadgecredentialsresponse-jsonschema1.json",
        "imsx_statusinfo_schema.json",
        "imsx_statusinfo-jsonschema1.json",
    )
)
# The API schemas the specification also lists there: they exist, but are not shipped.
_SCHEMA_FOLDER: Final = _OB3 + "schema/json/"
_KIND_TYPES: Final = {
    "credential": {"OpenBadgeCredential", "AchievementCredential"},
    "endorsement": {"EndorsementCredential"},
    "status list": {"BitstringStatusListCredential"},
}


@cache
def _shipped_schema(name: str) -> dict[str, Any]:
    # Read once per process; never altered (validators only read their schema).
    text = resources.files("openbackpack.credentials").joinpath(f"data/schemas/{name}")
    schema: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return schema


_validators = threading.local()


def _thread_validator(name: str) -> jsonschema.Draft201909Validator:
    """This thread's jsonschema validator for a shipped schema, built on first use.

    One per thread and schema: building one (its reference registry) cost as much as
    validating, and jsonschema does not promise its validators are thread-safe.
    """
    held: dict[str, jsonschema.Draft201909Validator] = _validators.__dict__.setdefault("held", {})
    validator = held.get(name)
    if validator is None:
        validator = held[name] = jsonschema.Draft201909Validator(_shipped_schema(name))
    return validator


def _shipped_errors(name: str, document: dict[str, Any]) -> list[jsonschema.ValidationError]:
    """The errors of ``document`` against a shipped schema, sorted by where they are."""
    data = _proof_list(document)
    # jsonschema-rs (Rust) answers valid-or-not in microseconds, where walking the schema in
    # Python cost a large share of verifying a credential; only a document it finds invalid
    # is walked again by jsonschema, whose errors (messages and paths) the report quotes.
    if _fast_verdict(name, data):
        return []
    validator = _thread_validator(name)
    return sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))


def _fast_verdict(name: str, data: dict[str, Any]) -> bool:
    """Whether jsonschema-rs finds ``data`` valid; False when it cannot read it."""
    try:
        return _fast_validator(name).is_valid(data)
    except ValueError:
        # Not plain JSON (a key that is not a string, a datetime, bytes): jsonschema decides.
        return False


def _fast_validator(name: str) -> jsonschema_rs.Draft201909Validator:
    """The process's jsonschema-rs validator of a shipped schema, formats not asserted.

    One for all threads, built once: a jsonschema-rs validator is immutable once built and
    usable from any thread (its binding does not tie it to the thread that made it), where
    one per thread cost each new pool thread as much as a hundred checks. Formats are
    annotations in draft 2019-09, and the jsonschema validator is given no format checker:
    neither checks them.
    """
    validator = _fast_validators.get(name)
    if validator is None:
        with _fast_building:
            validator = _fast_validators.get(name)
            if validator is None:
                schema = _shipped_schema(name)
                validator = jsonschema_rs.Draft201909Validator(schema, validate_formats=False)
                _fast_validators[name] = validator
    return validator


_fast_validators: dict[str, jsonschema_rs.Draft201909Validator] = {}
_fast_building: Final = threading.Lock()


def _contexts(document: dict[str, Any]) -> list[Any]:
    value = document.get("@context")
    return value if isinstance(value, list) else [value]


def check_context(report: VerificationReport, document: dict[str, Any], kind: str) -> bool:
    """VC 2.0 (or 1.1, a warning) first, and for OB documents an OB 3.0 context."""
    contexts = _contexts(document)
    if contexts[0] not in (VC2_CONTEXT, VC1_CONTEXT):
        report.failed("context", f"the first @context must be {VC2_CONTEXT}, not {contexts[0]!r}")
        return False
    if contexts[0] == VC1_CONTEXT:
        report.warnings.append("VC Data Model 1.1 (credentials/v1): outdated")
    if kind != "status list":
        known = [c for c in contexts if c in _OB3_CONTEXTS]
        if not known:
            report.failed("context", "no Open Badges 3.0 @context")
            return False
        warning = _OB3_CONTEXTS[known[0]]
        if warning:
            report.warnings.append(warning)
    report.passed("context", "the required contexts are present")
    return True


def _types(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def check_type(report: VerificationReport, document: dict[str, Any], kind: str) -> bool:
    """``VerifiableCredential`` and the type of its kind."""
    types = _types(document.get("type"))
    wanted = _KIND_TYPES[kind]
    if "VerifiableCredential" not in types or not wanted & set(types):
        report.failed("type", f"type {types} lacks VerifiableCredential or {sorted(wanted)}")
        return False
    report.passed("type", f"a {kind}: {', '.join(types)}")
    return True


def _proof_list(document: dict[str, Any]) -> dict[str, Any]:
    # The published schemas require `proof` to be an array (1EdTech/openbadges-specification
    # #473); a single proof object is legal VC, so it is checked as a one-element array.
    data = dict(document)
    if isinstance(data.get("proof"), dict):
        data["proof"] = [data["proof"]]
    return data


SchemaErrors = tuple[str, list[jsonschema.ValidationError]]
"""A shipped schema's name and a document's errors against it."""


def check_schema(report: VerificationReport, document: dict[str, Any], kind: str) -> SchemaErrors:
    """The 1EdTech JSON Schema of the kind (a VC 1.1 document's differences are warnings).

    Returns the schema's name and the errors, for :func:`check_credential_schemas`.
    """
    name = "endorsementcredential.json" if kind == "endorsement" else "achievementcredential.json"
    errors = _shipped_errors(name, document)
    if not errors:
        report.passed("schema", f"valid against {name}")
    elif _contexts(document)[0] == VC1_CONTEXT:
        report.warnings.append(f"{len(errors)} differences from {name} (a VC 1.1 credential)")
        report.passed("schema", f"a VC 1.1 credential; {name} describes VC 2.0 (see warnings)")
    else:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
        report.failed(
            "schema",
            f"{len(errors)} errors against {name}; first at {where}: {errors[0].message[:200]}",
        )
    return name, errors


def check_credential_schemas(
    report: VerificationReport,
    document: dict[str, Any],
    loader: DocumentLoader,
    *,
    known: SchemaErrors | None = None,
) -> None:
    """Each ``credentialSchema`` the credential names (shipped, mapped or fetched).

    ``known``: what :func:`check_schema` found for the same document, not validated again.
    """
    entries = document.get("credentialSchema")
    if entries is None:
        return
    for entry in entries if isinstance(entries, list) else [entries]:
        url = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(url, str):
            report.failed("credential schema", "a credentialSchema entry has no id")
            continue
        if url in SCHEMA_IDS:
            name = SCHEMA_IDS[url]
            found = known[1] if known and known[0] == name else _shipped_errors(name, document)
            _credential_schema_outcome(report, document, url, found)
            continue
        try:
            schema = loader.get(url)
        except DocumentUnavailableError as exc:
            if url.startswith(_SCHEMA_FOLDER) and url not in _PUBLISHED_ELSEWHERE:
                # OB 3.0's schema folder is closed (the specification lists its files): a
                # name outside that list is known not to exist, so nobody can check the
                # credential against it. Anywhere else, an unreadable schema is just unread.
                report.failed(
                    "credential schema",
                    f"{url} is not one of the OB 3.0 JSON Schemas 1EdTech publishes",
                )
            else:
                report.not_checked("credential schema", f"{url} cannot be read: {exc}")
            continue
        errors = list(jsonschema.Draft201909Validator(schema).iter_errors(_proof_list(document)))
        _credential_schema_outcome(report, document, url, errors)


def _credential_schema_outcome(
    report: VerificationReport,
    document: dict[str, Any],
    url: str,
    errors: list[jsonschema.ValidationError],
) -> None:
    if errors and _contexts(document)[0] == VC1_CONTEXT:
        report.warnings.append(f"{len(errors)} differences from {url} (a VC 1.1 credential)")
        report.passed("credential schema", f"a VC 1.1 credential; {url} describes VC 2.0")
    elif errors:
        report.failed("credential schema", f"{len(errors)} errors against {url}")
    else:
        report.passed("credential schema", f"valid against {url}")


def _moment(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def check_dates(report: VerificationReport, graph: SignedGraph, now: datetime) -> None:
    """``validFrom``/``issuanceDate`` not in the future; ``validUntil``/``expirationDate`` ahead."""
    root = graph.root
    start = graph.first(root, CRED + "validFrom") or graph.first(root, CRED + "issuanceDate")
    end = graph.first(root, CRED + "validUntil") or graph.first(root, CRED + "expirationDate")
    start_at, end_at = _moment(start), _moment(end)
    if start is not None and start_at is None:
        report.failed("validity dates", f"the start {start!r} is not a date-time with a zone")
    elif end is not None and end_at is None:
        report.failed("validity dates", f"the end {end!r} is not a date-time with a zone")
    elif start_at is None:
        report.failed("validity dates", "the signed data has no validFrom (or issuanceDate)")
    elif start_at > now:
        report.failed("validity dates", f"not valid before {start}")
    elif end_at is not None and end_at <= now:
        report.failed("validity dates", f"expired at {end}")
    else:
        report.passed("validity dates", f"valid from {start}" + (f" until {end}" if end else ""))


def check_recipient(report: VerificationReport, graph: SignedGraph, email: str) -> None:
    """The signed subject's identifiers (hashed or plain email) include ``email``."""
    subject = graph.first(graph.root, CRED + "credentialSubject")
    reasons = []
    for identity in graph.values(subject, OB + "identifier"):
        identity_type = graph.first(identity, OB + "identityType")
        recipient = {
            "type": "email" if identity_type == "emailAddress" else str(identity_type),
            "identity": graph.first(identity, OB + "identityHash"),
            "hashed": graph.first(identity, OB + "hashed") in (True, "true"),
            "salt": graph.first(identity, OB + "salt"),
        }
        if not isinstance(recipient["identity"], str):
            continue
        match = match_recipient(recipient, email)
        if match.matched:
            report.passed("recipient", f"awarded to {email}: {match.reason}")
            return
        reasons.append(match.reason)
    subject_id = subject.get("@id") if isinstance(subject, dict) else None
    if subject_id == f"mailto:{email}":
        report.passed("recipient", f"the subject is mailto:{email}")
        return
    report.failed("recipient", f"not awarded to {email}: " + ("; ".join(reasons) or "no email"))
