"""The host's tables (SQLAlchemy Core), kept apart from the store's.

Every table name starts with ``host_`` and the migrations record their revision in
``host_alembic_version``, so one database can hold both a store and a host.
Passwords are argon2 hashes and tokens sha256 digests: nothing here is a usable secret.
JSON values are kept as text so SQLite and PostgreSQL behave alike.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

from openbackpack.store._types import NAMING_CONVENTION, UTCDateTime

__all__ = [
    "VERSION_TABLE",
    "assertions",
    "badgeclasses",
    "collection_items",
    "collections",
    "emails",
    "imports",
    "issuers",
    "login_failures",
    "metadata",
    "oauth_clients",
    "oauth_codes",
    "ob3_credentials",
    "tokens",
    "users",
]

VERSION_TABLE = "host_alembic_version"

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _fk(name: str, target: str) -> Column[int]:
    return Column(
        name, Integer, ForeignKey(f"{target}.id", ondelete="CASCADE"), nullable=False, index=True
    )


def _eid() -> Column[str]:
    return Column("entity_id", String(32), nullable=False, unique=True)


users = Table(
    "host_users",
    metadata,
    Column("id", Integer, primary_key=True),
    _eid(),
    Column("first_name", String(150), nullable=False, default=""),
    Column("last_name", String(150), nullable=False, default=""),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

emails = Table(
    "host_emails",
    metadata,
    Column("id", Integer, primary_key=True),
    _fk("user_id", "host_users"),
    Column("email", String(255), nullable=False, unique=True),
    Column("verified", Boolean, nullable=False),
    Column("is_primary", Boolean, nullable=False),
)

# Badge Connect clients registered dynamically (RFC 7591); the secret is kept as a digest.
oauth_clients = Table(
    "host_oauth_clients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("auth_method", String(32), nullable=False),
    Column("redirect_uris", Text, nullable=False),
    Column("grant_types", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # Which API the client registered for: Badge Connect ("v2p1") or OB 3.0 ("v3p0").
    Column("api", String(8), nullable=False, server_default="v2p1"),
)

tokens = Table(
    "host_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    _fk("user_id", "host_users"),
    Column("access_hash", String(64), nullable=False, unique=True),
    Column("refresh_hash", String(64), nullable=False, unique=True),
    # Text: five Badge Connect scope URLs do not fit in 255 characters.
    Column("scope", Text, nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # NULL for Badgr password-grant tokens (the public client); else the Badge Connect client.
    Column(
        "client_id",
        Integer,
        ForeignKey("host_oauth_clients.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    # Whether the refresh token was handed out (Badge Connect: only with offline_access).
    Column("refreshable", Boolean, nullable=False, server_default=true()),
)

# Authorization codes: digest only, single use, bound to client, redirect URI and PKCE
# challenge. A used code keeps its row, so a replay can revoke what it was traded for.
oauth_codes = Table(
    "host_oauth_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    _fk("client_id", "host_oauth_clients"),
    _fk("user_id", "host_users"),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("challenge", String(128), nullable=True),
    Column("challenge_method", String(8), nullable=True),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
    Column("token_id", Integer, nullable=True),
)

login_failures = Table(
    "host_login_failures",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", UTCDateTime(), nullable=False),
)

issuers = Table(
    "host_issuers",
    metadata,
    Column("id", Integer, primary_key=True),
    _eid(),
    _fk("owner_id", "host_users"),
    Column("name", String(1024), nullable=False),
    Column("email", String(255), nullable=False),
    Column("url", String(1024), nullable=False),
    Column("description", Text, nullable=True),
    Column("image", LargeBinary, nullable=True),
    Column("image_type", String(32), nullable=True),
    Column("extensions", Text, nullable=False, default="{}"),
    Column("created_at", UTCDateTime(), nullable=False),
)

badgeclasses = Table(
    "host_badgeclasses",
    metadata,
    Column("id", Integer, primary_key=True),
    _eid(),
    _fk("issuer_id", "host_issuers"),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=False),
    Column("image", LargeBinary, nullable=False),
    Column("image_type", String(32), nullable=False),
    Column("criteria_url", String(1024), nullable=True),
    Column("criteria_narrative", Text, nullable=True),
    Column("alignments", Text, nullable=False, default="[]"),
    Column("tags", Text, nullable=False, default="[]"),
    Column("expires_amount", Integer, nullable=True),
    Column("expires_duration", String(16), nullable=True),
    Column("extensions", Text, nullable=False, default="{}"),
    Column("created_at", UTCDateTime(), nullable=False),
)

assertions = Table(
    "host_assertions",
    metadata,
    Column("id", Integer, primary_key=True),
    _eid(),
    _fk("badgeclass_id", "host_badgeclasses"),
    Column("created_by", String(32), nullable=False),
    Column("recipient_identity", String(1024), nullable=False, index=True),
    Column("recipient_type", String(16), nullable=False),
    Column("hashed", Boolean, nullable=False),
    Column("salt", String(32), nullable=False),
    Column("issued_on", UTCDateTime(), nullable=False),
    Column("expires", UTCDateTime(), nullable=True),
    Column("narrative", Text, nullable=True),
    Column("evidence", Text, nullable=False, default="[]"),
    Column("extensions", Text, nullable=False, default="{}"),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("revocation_reason", Text, nullable=True),
    Column("acceptance", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

imports = Table(
    "host_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    _eid(),
    _fk("user_id", "host_users"),
    Column("source_url", String(2048), nullable=False),
    Column("badgeclass_eid", String(32), nullable=False),
    Column("issuer_eid", String(32), nullable=False),
    Column("assertion_json", Text, nullable=False),
    Column("badgeclass_json", Text, nullable=False),
    Column("issuer_json", Text, nullable=False),
    Column("recipient_identity", String(1024), nullable=False),
    Column("salt", String(32), nullable=False),
    Column("issued_on", UTCDateTime(), nullable=True),
    Column("expires", UTCDateTime(), nullable=True),
    Column("image", LargeBinary, nullable=True),
    Column("image_type", String(32), nullable=True),
    Column("acceptance", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("user_id", "source_url"),
)

collections = Table(
    "host_collections",
    metadata,
    Column("id", Integer, primary_key=True),
    _eid(),
    _fk("user_id", "host_users"),
    Column("name", String(128), nullable=False),
    Column("description", String(255), nullable=False),
    Column("share_hash", String(32), nullable=True, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

collection_items = Table(
    "host_collection_items",
    metadata,
    Column(
        "collection_id",
        Integer,
        ForeignKey("host_collections.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("item_eid", String(32), primary_key=True),
    Column("position", Integer, nullable=False),
)

# Credentials pushed through the Open Badges 3.0 API, one row per credential of a user. The
# upsert keys (id; else issuer, achievement and subject) are read from the verified data.
ob3_credentials = Table(
    "host_ob3_credentials",
    metadata,
    Column("id", Integer, primary_key=True),
    _fk("user_id", "host_users"),
    Column("credential_id", Text, nullable=True),
    Column("issuer_id", Text, nullable=False),
    Column("achievement_id", Text, nullable=False),
    Column("subject_id", Text, nullable=False),
    # "json" (an embedded proof) or "jwt" (a compact JWS, kept as it was sent).
    Column("format", String(8), nullable=False),
    Column("document", Text, nullable=False),
    Column("issued_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
