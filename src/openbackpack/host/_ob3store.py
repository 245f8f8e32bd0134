"""Each user's Open Badges 3.0 credentials on the host: verified on the way in, upserted.

A pushed credential is verified first (:func:`openbackpack.credentials.verify_credential`,
with the host's guarded fetcher for DID documents and status lists); the upsert keys are
then read from the *verified* data, never from unsigned JSON. The specification's rule
decides between insert and replace: a stored credential with the same ``id`` is replaced;
else one with the same issuer, achievement and subject; else the credential is new.

A credential that could not be fully checked (a status list or DID document that did not
answer) is refused unless ``HostSettings.ob3_accept_unchecked`` says otherwise: a wallet
that stores what it could not check would later show it as if it had been.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update

from openbackpack._exceptions import DocumentUnavailableError
from openbackpack.credentials import (
    CheckOutcome,
    DocumentLoader,
    Outcome,
    StatusListCache,
    VerificationReport,
    verify_credential,
)
from openbackpack.host import _schema as t
from openbackpack.host._fetch import Fetcher, FetchError
from openbackpack.host._ob3wire import Ob3Error, Pushed, compact_json
from openbackpack.host._validate import parse_datetime
from openbackpack.models.ob3api import CodeMinor
from openbackpack.store._types import utcnow

__all__ = [
    "HostCredential",
    "Page",
    "UpsertKeys",
    "credentials_page",
    "host_loader",
    "keys_of",
    "stored_credentials",
    "upsert_credential",
    "verify_pushed",
]

_TYPES: Final = frozenset({"OpenBadgeCredential", "AchievementCredential"})
_log = logging.getLogger("openbackpack.host")


def host_loader(fetcher: Fetcher, status_lists: StatusListCache | None = None) -> DocumentLoader:
    """A document loader that fetches what is not shipped through the host's guarded fetcher.

    The fetcher refuses private addresses (unless the host allows them), caps sizes and
    times out; anything it cannot give is "unavailable", so the check it feeds is reported
    as not made rather than failing the whole request. ``status_lists`` is the host's
    cache of verified status lists, shared by every request.
    """

    def fetch(url: str) -> Any:
        try:
            fetched = fetcher.get(url)
        except FetchError as exc:
            message = f"{url} cannot be fetched: {exc.reason}"
            raise DocumentUnavailableError(message, url=url) from None
        text = fetched.content.decode("utf-8", "replace").strip()
        try:
            return json.loads(text)
        except ValueError:
            return text  # a status list or document served as a VC-JWT

    return DocumentLoader(fetch=fetch, status_lists=status_lists)


def _named(report: VerificationReport, outcome: CheckOutcome) -> str:
    return "; ".join(f"{c.name}: {c.reason}" for c in report.checks if c.outcome is outcome)


def verify_pushed(
    pushed: Pushed, loader: DocumentLoader, *, accept_unchecked: bool
) -> dict[str, Any]:
    """Verify a pushed credential and return its verified data.

    Raises:
        Ob3Error: 400 ``invalid_data`` naming every failed check, or (unless
            ``accept_unchecked``) every check that could not be made; also for a valid
            document that is not an OpenBadgeCredential.
    """
    source: Any = pushed.document if pushed.document is not None else pushed.jws
    try:
        report = verify_credential(source, loader=loader)
    except Exception as exc:
        # The verifier promises a report for any credential (a relative IRI as a context is
        # now a failed proof); should a JSON-LD case it does not foresee still raise, the
        # host answers that the credential is unreadable rather than a 500.
        _log.warning("the verifier failed on a pushed credential: %s", type(exc).__name__)
        raise Ob3Error(
            400, CodeMinor.INVALID_DATA, "The credential cannot be read as JSON-LD."
        ) from None
    if report.outcome is Outcome.INVALID:
        reasons = _named(report, CheckOutcome.FAILED) or "nothing in it could be verified"
        raise Ob3Error(400, CodeMinor.INVALID_DATA, f"The credential does not verify: {reasons}.")
    if report.outcome is Outcome.INDETERMINATE and not accept_unchecked:
        raise Ob3Error(
            400,
            CodeMinor.INVALID_DATA,
            "The credential could not be fully checked, and this host stores only credentials "
            f"it could check: {_named(report, CheckOutcome.NOT_CHECKED)}.",
        )
    signed = report.credential if report.credential is not None else pushed.document
    types = signed.get("type") if isinstance(signed, dict) else None
    names = {types} if isinstance(types, str) else set(types if isinstance(types, list) else [])
    if not isinstance(signed, dict) or not names & _TYPES:
        raise Ob3Error(
            400,
            CodeMinor.INVALID_DATA,
            "Only an OpenBadgeCredential (AchievementCredential) can be stored here.",
        )
    return signed


@dataclass(frozen=True, slots=True)
class UpsertKeys:
    """What decides whether a credential replaces a stored one, read from verified data."""

    credential_id: str | None
    issuer_id: str
    achievement_id: str
    subject_id: str
    issued_at: datetime | None


def _id_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return ""


def _subject_of(subject: Any) -> str:
    # An AchievementSubject names its holder by id, or else by identifier (a hashed e-mail).
    if _id_of(subject):
        return _id_of(subject)
    identifiers = subject.get("identifier") if isinstance(subject, dict) else None
    if isinstance(identifiers, list) and identifiers and isinstance(identifiers[0], dict):
        return compact_json(
            {k: identifiers[0].get(k) for k in ("identityType", "identityHash", "salt")}
        )
    return ""


def keys_of(signed: dict[str, Any]) -> UpsertKeys:
    """The upsert keys of a verified credential.

    Raises:
        Ob3Error: 400 when it names no issuer or no achievement.
    """
    subject = signed.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    issuer_id, achievement_id = _id_of(signed.get("issuer")), _id_of(achievement)
    if not issuer_id or not achievement_id:
        raise Ob3Error(
            400, CodeMinor.INVALID_DATA, "The credential names no issuer id or no achievement id."
        )
    credential_id = signed.get("id") if isinstance(signed.get("id"), str) else None
    issued = signed.get("validFrom") or signed.get("issuanceDate")
    return UpsertKeys(
        credential_id=credential_id or None,
        issuer_id=issuer_id,
        achievement_id=achievement_id,
        subject_id=_subject_of(subject),
        issued_at=parse_datetime(issued),
    )


# The statements of every push, built once: building a statement and its cache key costs
# SQLAlchemy more CPU than SQLite spends answering it.
_CREDENTIALS: Final = t.ob3_credentials
_HOLD_USER: Final = (
    update(t.users)
    .where(t.users.c.id == bindparam("user_id"))
    .values(first_name=t.users.c.first_name)
)
_CREDENTIAL_BY_ID: Final = select(_CREDENTIALS.c.id).where(
    _CREDENTIALS.c.user_id == bindparam("user_id"),
    _CREDENTIALS.c.credential_id == bindparam("credential_id"),
)
_CREDENTIAL_BY_KEYS: Final = (
    select(_CREDENTIALS.c.id)
    .where(
        _CREDENTIALS.c.user_id == bindparam("user_id"),
        _CREDENTIALS.c.issuer_id == bindparam("issuer_id"),
        _CREDENTIALS.c.achievement_id == bindparam("achievement_id"),
        _CREDENTIALS.c.subject_id == bindparam("subject_id"),
    )
    .order_by(_CREDENTIALS.c.id)
    .limit(1)
)
_REPLACE_CREDENTIAL: Final = update(_CREDENTIALS).where(_CREDENTIALS.c.id == bindparam("row_id"))
_NEW_CREDENTIAL: Final = insert(_CREDENTIALS)


def _hold_user(connection: Connection, user_id: int) -> None:
    # A write first: SQLite takes its write lock here (a read first would leave a stale
    # snapshot) and PostgreSQL a row lock, so concurrent pushes of one user run one by one
    # and two copies of one credential can never both be "created".
    connection.execute(_HOLD_USER, {"user_id": user_id})


def _existing(connection: Connection, user_id: int, keys: UpsertKeys) -> int | None:
    if keys.credential_id is not None:
        found = connection.scalar(
            _CREDENTIAL_BY_ID, {"user_id": user_id, "credential_id": keys.credential_id}
        )
        if found is not None:
            return int(found)
    found = connection.scalar(
        _CREDENTIAL_BY_KEYS,
        {
            "user_id": user_id,
            "issuer_id": keys.issuer_id,
            "achievement_id": keys.achievement_id,
            "subject_id": keys.subject_id,
        },
    )
    return None if found is None else int(found)


def upsert_credential(
    connection: Connection, user_id: int, keys: UpsertKeys, pushed: Pushed
) -> bool:
    """Store a verified credential for a user; True when it was new, False when it replaced one."""
    _hold_user(connection, user_id)
    document = pushed.jws if pushed.jws is not None else compact_json(pushed.document)
    values = {
        "credential_id": keys.credential_id,
        "issuer_id": keys.issuer_id,
        "achievement_id": keys.achievement_id,
        "subject_id": keys.subject_id,
        "format": "jwt" if pushed.jws is not None else "json",
        "document": document,
        "issued_at": keys.issued_at,
        "updated_at": utcnow(),
    }
    existing = _existing(connection, user_id, keys)
    if existing is not None:
        connection.execute(_REPLACE_CREDENTIAL, {"row_id": existing, **values})
        return False
    connection.execute(
        _NEW_CREDENTIAL, {"user_id": user_id, "created_at": values["updated_at"], **values}
    )
    return True


@dataclass(frozen=True, slots=True)
class HostCredential:
    """A credential a user holds on the host: what was pushed (JSON or JWS) and when."""

    format: str
    document: str
    credential_id: str | None
    issuer_id: str
    achievement_id: str
    issued_at: datetime | None
    updated_at: datetime

    @property
    def json(self) -> dict[str, Any] | None:
        """The credential as JSON (None for a VC-JWT)."""
        if self.format != "json":
            return None
        data: dict[str, Any] = json.loads(self.document)
        return data


def _stored(row: Row[Any]) -> HostCredential:
    return HostCredential(
        format=row.format,
        document=row.document,
        credential_id=row.credential_id,
        issuer_id=row.issuer_id,
        achievement_id=row.achievement_id,
        issued_at=row.issued_at,
        updated_at=row.updated_at,
    )


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a user's credentials, and how many match in all."""

    items: list[HostCredential]
    total: int


def credentials_page(
    connection: Connection, user_id: int, *, limit: int, offset: int, since: datetime | None
) -> Page:
    """A user's credentials in the order they were first stored, ``since`` filtering by issue."""
    table = t.ob3_credentials
    conditions = [table.c.user_id == user_id]
    if since is not None:
        conditions.append(func.coalesce(table.c.issued_at, table.c.created_at) > since)
    total = connection.scalar(select(func.count()).select_from(table).where(*conditions)) or 0
    rows = connection.execute(
        select(table).where(*conditions).order_by(table.c.id).limit(limit).offset(offset)
    ).all()
    return Page([_stored(row) for row in rows], int(total))


def stored_credentials(connection: Connection, user_id: int) -> list[HostCredential]:
    """Every credential of a user, oldest first (for the command line)."""
    table = t.ob3_credentials
    rows = connection.execute(
        select(table).where(table.c.user_id == user_id).order_by(table.c.id)
    ).all()
    return [_stored(row) for row in rows]
