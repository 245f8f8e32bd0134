"""Repositories of the issuer registry: issuers, badge classes and awards.

Like the other repositories, each works on its transaction's connection, and every check runs
before the first write, so a refused call leaves nothing behind even inside a longer block.
"""

from __future__ import annotations

import builtins
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Row, and_, bindparam, insert, or_, select, update

from openbackpack._exceptions import (
    AlreadyRevokedError,
    InvalidCriteriaError,
    InvalidInputError,
    RecordNotFoundError,
)
from openbackpack.store import _schema as t
from openbackpack.store._registry_checks import (
    check_aware,
    check_email_address,
    check_language,
    check_optional_text,
    check_tags,
    check_text,
    check_web_url,
    image_type_of,
)
from openbackpack.store._registry_records import (
    Alignment,
    Award,
    BadgeClass,
    Endorsement,
    Evidence,
    ImageType,
    Issuer,
)
from openbackpack.store._repos import Settings, _new_id, _Repository
from openbackpack.store._types import utcnow

__all__ = ["Awards", "BadgeClasses", "Issuers"]

_NAME = 255
_LONG_TEXT = 20_000
_MAX_SALT = 64


# The lookups every push, issue and re-issue makes, built once: building a statement and its
# cache key costs SQLAlchemy more CPU than SQLite spends answering it.
_ISSUER_BY_ID: Final = select(t.issuers).where(t.issuers.c.id == bindparam("id"))
_BADGE_CLASS_BY_ID: Final = select(t.badge_classes).where(t.badge_classes.c.id == bindparam("id"))
_ENDORSEMENTS_OF: Final = (
    select(t.endorsements)
    .where(t.endorsements.c.badge_class_id == bindparam("id"))
    .order_by(t.endorsements.c.id)
)
_AWARD_BY_HASH: Final = select(t.awards).where(t.awards.c.hash == bindparam("hash"))
_RELATIONS_OF: Final = select(t.badge_class_relations).where(
    or_(
        t.badge_class_relations.c.badge_class_id == bindparam("id"),
        t.badge_class_relations.c.related_id == bindparam("id"),
    )
)


class Issuers(_Repository):
    """Issuers: the organisations whose badges the registry hosts (and endorsers)."""

    def create(
        self,
        name: str | None,
        url: str,
        email: str | None,
        *,
        description: str | None = None,
        image: bytes | None = None,
    ) -> Issuer:
        """Add an issuer.

        A ``name`` or ``email`` left as None is taken from the site settings
        (``default_issuer_name``, ``default_issuer_contact``), as Moodle's default issuer is.

        Raises:
            InvalidInputError: no email was given and the site has no default issuer contact.
            InvalidEmailError: the email is not an email address.
            InvalidUrlError: the URL is not an absolute http(s) URL.
            InvalidImageError: the image is neither PNG nor SVG.
        """
        if name is None or email is None:
            defaults = Settings(self._conn, self._box).get()
            name = defaults.default_issuer_name if name is None else name
            if email is None:
                email = defaults.default_issuer_contact
                if not email:
                    raise InvalidInputError(
                        "give the issuer's email, or set the site's default_issuer_contact"
                    )
        now = utcnow()
        result = self._conn.execute(
            insert(t.issuers).values(
                name=check_text("issuer name", name, max_length=_NAME),
                url=check_web_url("issuer url", url),
                email=check_email_address("issuer email", email),
                description=check_optional_text(
                    "issuer description", description, max_length=_LONG_TEXT
                ),
                image=image,
                image_type=None if image is None else image_type_of(image),
                created_at=now,
                modified_at=now,
            )
        )
        return self.get(_new_id(result))

    def get(self, issuer_id: int) -> Issuer:
        """Return one issuer. Raises :class:`RecordNotFoundError` if there is none."""
        row = self._conn.execute(_ISSUER_BY_ID, {"id": issuer_id}).first()
        if row is None:
            raise RecordNotFoundError("issuer", issuer_id)
        return _issuer(row)

    def list(self) -> list[Issuer]:
        """Return every issuer, oldest first."""
        return [
            _issuer(row) for row in self._conn.execute(select(t.issuers).order_by(t.issuers.c.id))
        ]


class BadgeClasses(_Repository):
    """Badge classes, the badges related to each, and endorsements of them."""

    def create(
        self,
        issuer_id: int,
        name: str,
        description: str,
        image: bytes,
        *,
        criteria_url: str | None = None,
        criteria_narrative: str | None = None,
        alignments: Iterable[Alignment] = (),
        tags: Iterable[str] = (),
        related: Iterable[int] = (),
        version: str | None = None,
        language: str | None = None,
    ) -> BadgeClass:
        """Add a badge class of an issuer.

        ``related`` names other badge classes that are the same achievement (another
        version or language); the relation goes both ways.

        Raises:
            RecordNotFoundError: the issuer or a related badge class does not exist.
            InvalidImageError: the image is neither PNG nor SVG.
            InvalidCriteriaError: neither a criteria URL nor a narrative is given.
        """
        Issuers(self._conn, self._box).get(issuer_id)
        values = {
            "name": check_text("badge name", name, max_length=_NAME),
            "description": check_text("badge description", description, max_length=_LONG_TEXT),
            "image_type": image_type_of(image),
            **_criteria(criteria_url, criteria_narrative),
            "alignments": _dump([_alignment_json(a) for a in alignments]),
            "tags": _dump(list(check_tags(tags))),
            "version": check_optional_text("badge version", version, max_length=64),
            "language": check_language(language),
        }
        related_ids = list(dict.fromkeys(related))
        for other in related_ids:
            self.get(other)
        now = utcnow()
        result = self._conn.execute(
            insert(t.badge_classes).values(
                issuer_id=issuer_id, image=image, created_at=now, modified_at=now, **values
            )
        )
        badge_id = _new_id(result)
        for other in related_ids:
            self.relate(badge_id, other)
        return self.get(badge_id)

    def get(self, badge_class_id: int) -> BadgeClass:
        """Return one badge class. Raises :class:`RecordNotFoundError` if there is none."""
        row = self._conn.execute(_BADGE_CLASS_BY_ID, {"id": badge_class_id}).first()
        if row is None:
            raise RecordNotFoundError("badge class", badge_class_id)
        return self._badge_class(row)

    def list(self, *, issuer_id: int | None = None) -> list[BadgeClass]:
        """Return badge classes, optionally only one issuer's, oldest first."""
        query = select(t.badge_classes).order_by(t.badge_classes.c.id)
        if issuer_id is not None:
            query = query.where(t.badge_classes.c.issuer_id == issuer_id)
        return [self._badge_class(row) for row in self._conn.execute(query)]

    def relate(self, badge_class_id: int, other_id: int) -> None:
        """Record that two badge classes are the same achievement (idempotent)."""
        if badge_class_id == other_id:
            raise InvalidInputError("a badge class cannot be related to itself")
        self.get(badge_class_id)
        self.get(other_id)
        low, high = sorted((badge_class_id, other_id))
        relations = t.badge_class_relations
        exists = self._conn.scalar(
            select(relations.c.badge_class_id).where(
                relations.c.badge_class_id == low, relations.c.related_id == high
            )
        )
        if exists is None:
            self._conn.execute(insert(relations).values(badge_class_id=low, related_id=high))

    def endorse(
        self,
        badge_class_id: int,
        endorser_id: int,
        comment: str | None = None,
        *,
        issued_on: datetime | None = None,
    ) -> Endorsement:
        """Record an issuer's endorsement of a badge class.

        The endorser is an issuer of this registry, so its profile is hosted beside the
        endorsement and a verifier can fetch both.
        """
        self.get(badge_class_id)
        Issuers(self._conn, self._box).get(endorser_id)
        moment = utcnow() if issued_on is None else check_aware("issued_on", issued_on)
        result = self._conn.execute(
            insert(t.endorsements).values(
                badge_class_id=badge_class_id,
                endorser_id=endorser_id,
                comment=check_optional_text("comment", comment, max_length=_LONG_TEXT),
                issued_on=moment.replace(microsecond=0),
            )
        )
        return self.endorsement(_new_id(result))

    def endorsement(self, endorsement_id: int) -> Endorsement:
        """Return one endorsement. Raises :class:`RecordNotFoundError` if there is none."""
        row = self._conn.execute(
            select(t.endorsements).where(t.endorsements.c.id == endorsement_id)
        ).first()
        if row is None:
            raise RecordNotFoundError("endorsement", endorsement_id)
        return _endorsement(row)

    def endorsements(self, badge_class_id: int) -> builtins.list[Endorsement]:
        """Return the endorsements of one badge class, oldest first."""
        rows = self._conn.execute(_ENDORSEMENTS_OF, {"id": badge_class_id})
        return [_endorsement(row) for row in rows]

    def _related_ids(self, badge_class_id: int) -> tuple[int, ...]:
        rows = self._conn.execute(_RELATIONS_OF, {"id": badge_class_id})
        others = {
            row.related_id if row.badge_class_id == badge_class_id else row.badge_class_id
            for row in rows
        }
        return tuple(sorted(others))

    def _badge_class(self, row: Row[Any]) -> BadgeClass:
        return BadgeClass(
            id=row.id,
            issuer_id=row.issuer_id,
            name=row.name,
            description=row.description,
            image=bytes(row.image),
            image_type=cast(ImageType, row.image_type),
            criteria_url=row.criteria_url,
            criteria_narrative=row.criteria_narrative,
            alignments=tuple(Alignment(**item) for item in json.loads(row.alignments)),
            tags=tuple(json.loads(row.tags)),
            related_ids=self._related_ids(row.id),
            version=row.version,
            language=row.language,
            created_at=row.created_at,
            modified_at=row.modified_at,
        )


class Awards(_Repository):
    """Awards: a badge class given to one email address, and their revocation."""

    def create(
        self,
        badge_class_id: int,
        recipient_email: str,
        *,
        salt: str | None = None,
        issued_on: datetime | None = None,
        expires: datetime | None = None,
        evidence: Sequence[Evidence] = (),
        owner: str | None = None,
    ) -> Award:
        """Award a badge class to an email address; returns the award with its public hash.

        ``owner`` is the platform's user the award is made to (as Moodle awards to a user):
        when set, that user may add it to a backpack whose verified email differs from
        ``recipient_email``, and the pushed copy names that backpack email.

        The recipient is hashed with ``salt``, or by default with the site's badge salt
        (``tx.settings.get().badge_salt``) as it is now: the salt is kept with the award so
        that the published assertion never changes afterwards. An empty salt means unsalted.

        Raises:
            RecordNotFoundError: the badge class does not exist.
            InvalidEmailError: the recipient is not an email address.
            InvalidInputError: a naive or inconsistent time, a bad salt or evidence, an
                empty owner.
        """
        BadgeClasses(self._conn, self._box).get(badge_class_id)
        if owner is not None and (not owner.strip() or len(owner) > 255):
            raise InvalidInputError("an award's owner must be a user id of 1 to 255 characters")
        values: dict[str, object] = {
            "owner": owner,
            "recipient_email": check_email_address("recipient email", recipient_email),
            **_award_times(issued_on, expires),
            "evidence": _dump([_evidence_json(item) for item in evidence]),
        }
        # Last: reading the site salt creates it on first use, which is a write.
        values["salt"] = self._salt(salt)
        result = self._conn.execute(
            insert(t.awards).values(
                badge_class_id=badge_class_id,
                hash=secrets.token_hex(20),
                revoked=False,
                **values,
            )
        )
        row = self._conn.execute(select(t.awards).where(t.awards.c.id == _new_id(result))).one()
        return _award(row)

    def get(self, award_hash: str) -> Award:
        """Return the award with that public hash. Raises :class:`RecordNotFoundError`."""
        award = self.find(award_hash)
        if award is None:
            raise RecordNotFoundError("award", award_hash)
        return award

    def find(self, award_hash: str) -> Award | None:
        """Return the award with that public hash, if any."""
        row = self._conn.execute(_AWARD_BY_HASH, {"hash": award_hash}).first()
        return None if row is None else _award(row)

    def find_many(self, award_hashes: Iterable[str]) -> dict[str, Award]:
        """Return the awards with these public hashes that exist (hash to award)."""
        wanted = list(award_hashes)
        found: dict[str, Award] = {}
        for start in range(0, len(wanted), 500):
            rows = self._conn.execute(
                select(t.awards).where(t.awards.c.hash.in_(wanted[start : start + 500]))
            )
            found.update({row.hash: _award(row) for row in rows})
        return found

    def list(
        self,
        *,
        badge_class_id: int | None = None,
        issuer_id: int | None = None,
        revoked: bool | None = None,
    ) -> list[Award]:
        """Return awards, optionally of one badge class or issuer, revoked or not; oldest first."""
        query = select(t.awards).order_by(t.awards.c.id)
        if badge_class_id is not None:
            query = query.where(t.awards.c.badge_class_id == badge_class_id)
        if issuer_id is not None:
            query = query.join(
                t.badge_classes,
                and_(
                    t.badge_classes.c.id == t.awards.c.badge_class_id,
                    t.badge_classes.c.issuer_id == issuer_id,
                ),
            )
        if revoked is not None:
            query = query.where(t.awards.c.revoked.is_(revoked))
        return [_award(row) for row in self._conn.execute(query)]

    def revoke(self, award_hash: str, reason: str) -> Award:
        """Revoke an award; its assertion then answers 410 with the reason.

        Raises:
            RecordNotFoundError: no award has that hash.
            AlreadyRevokedError: the award was revoked before (the first reason stands).
            InvalidInputError: the reason is empty.
        """
        text = check_text("revocation reason", reason, max_length=_LONG_TEXT)
        award = self.get(award_hash)
        if award.revoked:
            raise AlreadyRevokedError(award_hash)
        self._conn.execute(
            update(t.awards)
            .where(t.awards.c.id == award.id)
            .values(revoked=True, revocation_reason=text, revoked_at=utcnow())
        )
        return self.get(award_hash)

    def _salt(self, salt: str | None) -> str:
        if salt is None:
            return Settings(self._conn, self._box).get().badge_salt
        if not isinstance(salt, str) or len(salt) > _MAX_SALT or salt != salt.strip():
            raise InvalidInputError(
                f"a salt is a string of at most {_MAX_SALT} characters without spaces around it"
            )
        return salt


def _criteria(url: str | None, narrative: str | None) -> dict[str, str | None]:
    values = {
        "criteria_url": None if url is None or not url.strip() else check_web_url("criteria", url),
        "criteria_narrative": check_optional_text(
            "criteria narrative", narrative, max_length=_LONG_TEXT
        ),
    }
    if values["criteria_url"] is None and values["criteria_narrative"] is None:
        raise InvalidCriteriaError
    return values


def _alignment_json(alignment: Alignment) -> dict[str, str]:
    if not isinstance(alignment, Alignment):
        raise InvalidInputError(f"alignments must be Alignment records, not {alignment!r}")
    checked = {
        "target_name": check_text("alignment name", alignment.target_name, max_length=_NAME),
        "target_url": check_web_url("alignment url", alignment.target_url),
        "target_description": check_optional_text(
            "alignment description", alignment.target_description, max_length=_LONG_TEXT
        ),
        "target_framework": check_optional_text(
            "alignment framework", alignment.target_framework, max_length=_NAME
        ),
        "target_code": check_optional_text(
            "alignment code", alignment.target_code, max_length=_NAME
        ),
    }
    return {key: value for key, value in checked.items() if value is not None}


def _evidence_json(evidence: Evidence) -> dict[str, str]:
    if not isinstance(evidence, Evidence):
        raise InvalidInputError(f"evidence must be Evidence records, not {evidence!r}")
    if evidence.url is None and not (evidence.narrative or "").strip():
        raise InvalidInputError("each piece of evidence needs a URL or a narrative")
    checked = {
        key: check_optional_text(f"evidence {key}", value, max_length=_LONG_TEXT)
        for key, value in asdict(evidence).items()
    }
    if evidence.url is not None:
        checked["url"] = check_web_url("evidence url", evidence.url)
    return {key: value for key, value in checked.items() if value is not None}


def _award_times(issued_on: datetime | None, expires: datetime | None) -> dict[str, datetime]:
    # Whole seconds: the published times are then the same on SQLite and PostgreSQL.
    issued = (utcnow() if issued_on is None else check_aware("issued_on", issued_on)).replace(
        microsecond=0
    )
    values = {"issued_on": issued}
    if expires is not None:
        values["expires"] = check_aware("expires", expires).replace(microsecond=0)
        if values["expires"] <= issued:
            raise InvalidInputError("an award must expire after it was issued")
    return values


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _issuer(row: Row[Any]) -> Issuer:
    return Issuer(
        id=row.id,
        name=row.name,
        url=row.url,
        email=row.email,
        description=row.description,
        image=None if row.image is None else bytes(row.image),
        image_type=cast("ImageType | None", row.image_type),
        created_at=row.created_at,
        modified_at=row.modified_at,
    )


def _endorsement(row: Row[Any]) -> Endorsement:
    return Endorsement(
        id=row.id,
        badge_class_id=row.badge_class_id,
        endorser_id=row.endorser_id,
        comment=row.comment,
        issued_on=row.issued_on,
    )


def _award(row: Row[Any]) -> Award:
    return Award(
        id=row.id,
        hash=row.hash,
        badge_class_id=row.badge_class_id,
        recipient_email=row.recipient_email,
        salt=row.salt,
        issued_on=row.issued_on,
        expires=row.expires,
        evidence=tuple(Evidence(**item) for item in json.loads(row.evidence)),
        revoked=bool(row.revoked),
        revocation_reason=row.revocation_reason,
        revoked_at=row.revoked_at,
        owner=row.owner,
    )
