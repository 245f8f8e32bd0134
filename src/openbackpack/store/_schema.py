"""The store's tables (SQLAlchemy Core).

They keep the meaning of Moodle's backpack tables (``badge_external_backpack``,
``badge_backpack``, ``badge_external``, ``badge_external_identifier``,
``badge_backpack_oauth2``) with these changes: every secret column holds a sealed (encrypted)
value, a user may hold accounts on several providers, deleting a provider cascades to everything
that hangs off it, and the Badgr token cache lives here keyed by account instead of in a session.

The issuer registry (``issuers``, ``badge_classes``, ``badge_class_relations``, ``endorsements``,
``awards``) plays the part of Moodle's ``badge``, ``badge_issued``, ``badge_related``,
``badge_alignment`` and ``badge_endorsement``: what the hosted Open Badges JSON is built from.
Migrations in ``migrations/versions`` must create exactly these tables; a test compares them.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from openbackpack.store._types import NAMING_CONVENTION, UTCDateTime

__all__ = [
    "accounts",
    "awards",
    "badge_cache",
    "badge_class_relations",
    "badge_classes",
    "badgeconnect_manifests",
    "endorsements",
    "external_identifiers",
    "issuer_keys",
    "issuers",
    "job_items",
    "jobs",
    "metadata",
    "oauth_clients",
    "oauth_states",
    "oauth_tokens",
    "pending_verifications",
    "providers",
    "push_claims",
    "selected_collections",
    "settings",
    "status_entries",
    "store_meta",
    "token_cache",
]

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _provider_fk() -> Column[int]:
    return Column(
        "provider_id",
        Integer,
        ForeignKey("providers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def _account_fk(*, primary_key: bool = False) -> Column[int]:
    return Column(
        "account_id",
        Integer,
        ForeignKey("backpack_accounts.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
        index=not primary_key,
    )


def _oauth_client_fk() -> Column[int]:
    # Nullable: tokens of a client stored before clients were kept fall back to the newest.
    return Column(
        "oauth_client_id",
        Integer,
        ForeignKey("oauth_clients.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    )


providers = Table(
    "providers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("api_url", String(255), nullable=False, unique=True),
    Column("web_url", String(255), nullable=False, unique=True),
    Column("api_version", String(8), nullable=False),
    Column("sort_order", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    # The host's published limit, shared by every worker that talks to it (see jobs/):
    # requests per second and how many may go at once; NULL means no limit is applied.
    Column("rate_limit", Float, nullable=True),
    Column("burst", Integer, nullable=True),
    CheckConstraint("api_version IN ('1', '2', '2.1', '3.0')", name="api_version"),
)

# Every client ever registered with a provider is kept (the newest is the current one): each
# account's tokens were issued to one of them, and a host refreshes only for that client.
oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("id", Integer, primary_key=True),
    _provider_fk(),
    Column("client_id", String(255), nullable=False),
    Column("client_secret", Text, nullable=True),
    Column("token_endpoint_auth_method", String(64), nullable=False),
    Column("scope", Text, nullable=False),
    Column("registration", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
)

accounts = Table(
    "backpack_accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    _provider_fk(),
    Column("owner", String(255), nullable=False),
    Column("email", String(320), nullable=False),
    Column("password", Text, nullable=True),
    Column("remote_user_id", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    UniqueConstraint("owner", "provider_id", name="uq_backpack_accounts_owner_provider"),
)

selected_collections = Table(
    "selected_collections",
    metadata,
    Column("id", Integer, primary_key=True),
    _account_fk(),
    Column("group_id", Integer, nullable=True),
    Column("entity_id", String(255), nullable=True),
    CheckConstraint(
        "(group_id IS NULL AND entity_id IS NOT NULL) OR "
        "(group_id IS NOT NULL AND entity_id IS NULL)",
        name="one_key",
    ),
)

external_identifiers = Table(
    "external_identifiers",
    metadata,
    Column("id", Integer, primary_key=True),
    _provider_fk(),
    Column("kind", String(16), nullable=False),
    Column("internal_key", String(255), nullable=False),
    Column("external_id", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("provider_id", "kind", "internal_key", name="uq_external_identifiers_key"),
    CheckConstraint("kind IN ('Issuer', 'BadgeClass', 'Assertion')", name="kind"),
)

# Intent before create: a row is written (and committed) before an issuer, badge class or
# assertion is created on a host, so that one worker in any process owns the create, a
# worker that died is known (its lease runs out) and its successor looks before re-creating.
# ``content_hash`` is what was last pushed, so that a resume skips what did not change.
push_claims = Table(
    "push_claims",
    metadata,
    Column(
        "provider_id",
        Integer,
        ForeignKey("providers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(16), primary_key=True),
    Column("internal_key", String(255), primary_key=True),
    Column("holder", String(128), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("remote_id", String(255), nullable=True),
    Column("content_hash", String(64), nullable=True),
    Column("claimed_at", UTCDateTime, nullable=False),
    # One remote object belongs to one of our keys: two workers cannot adopt the same one.
    UniqueConstraint("provider_id", "kind", "remote_id", name="uq_push_claims_remote_id"),
)

oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    _account_fk(primary_key=True),
    _provider_fk(),
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("scope", Text, nullable=False),
    _oauth_client_fk(),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
)

token_cache = Table(
    "token_cache",
    metadata,
    _account_fk(primary_key=True),
    _provider_fk(),
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
)

pending_verifications = Table(
    "pending_verifications",
    metadata,
    Column("id", Integer, primary_key=True),
    _provider_fk(),
    Column("owner", String(255), nullable=False),
    Column("email", String(320), nullable=False),
    Column("password", Text, nullable=True),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    # The token of the login that checked the credentials (sealed): verifying reuses it.
    Column("access_token", Text, nullable=True),
    Column("refresh_token", Text, nullable=True),
    Column("token_expires_at", UTCDateTime, nullable=True),
    UniqueConstraint("owner", "provider_id", name="uq_pending_verifications_owner_provider"),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

badge_cache = Table(
    "badge_cache",
    metadata,
    _account_fk(primary_key=True),
    Column("payload", Text, nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
)

# Badge Connect (2.1). A pending authorization keeps its ``state`` only as a SHA-256 digest and
# its PKCE verifier sealed; one row per ``state``, deleted when it is used (W12).
oauth_states = Table(
    "oauth_states",
    metadata,
    Column("id", Integer, primary_key=True),
    _provider_fk(),
    Column("owner", String(255), nullable=False),
    Column("state_hash", String(64), nullable=False, unique=True),
    Column("code_verifier", Text, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("email", String(320), nullable=True),
    _oauth_client_fk(),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# What discovery read from a provider's manifest (Badge Connect) or service description
# (OB 3.0), with what is needed to ask again cheaply (the ETag for If-None-Match, the
# Last-Modified for If-Modified-Since, and how long the answer stays fresh).
badgeconnect_manifests = Table(
    "badgeconnect_manifests",
    metadata,
    Column(
        "provider_id",
        Integer,
        ForeignKey("providers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("manifest_url", Text, nullable=False),
    Column("etag", Text, nullable=True),
    Column("last_modified", Text, nullable=True),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("fresh_until", UTCDateTime, nullable=False),
    Column("name", Text, nullable=False),
    Column("image", Text, nullable=True),
    Column("api_base", Text, nullable=False),
    Column("version", String(32), nullable=False),
    Column("authorization_url", Text, nullable=False),
    Column("token_url", Text, nullable=False),
    Column("registration_url", Text, nullable=True),
    Column("revocation_url", Text, nullable=True),
    Column("scopes_offered", Text, nullable=False),
    Column("privacy_policy_url", Text, nullable=True),
    Column("document", Text, nullable=False),
)

store_meta = Table(
    "store_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# The issuer registry. Images live in the row: badge images are small (the checks cap them)
# and keeping them here means one backup holds everything a hosted badge needs.
_IMAGE_TYPES = "('image/png', 'image/svg+xml')"

issuers = Table(
    "issuers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("url", Text, nullable=False),
    Column("email", String(320), nullable=False),
    Column("description", Text, nullable=True),
    Column("image", LargeBinary, nullable=True),
    Column("image_type", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    CheckConstraint(
        f"(image IS NULL AND image_type IS NULL) OR "
        f"(image IS NOT NULL AND image_type IN {_IMAGE_TYPES})",
        name="image",
    ),
)

badge_classes = Table(
    "badge_classes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "issuer_id",
        Integer,
        ForeignKey("issuers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=False),
    Column("image", LargeBinary, nullable=False),
    Column("image_type", String(32), nullable=False),
    Column("criteria_url", Text, nullable=True),
    Column("criteria_narrative", Text, nullable=True),
    Column("alignments", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("version", String(64), nullable=True),
    Column("language", String(35), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    CheckConstraint(f"image_type IN {_IMAGE_TYPES}", name="image_type"),
    CheckConstraint("criteria_url IS NOT NULL OR criteria_narrative IS NOT NULL", name="criteria"),
)

# A relation is symmetric, so it is stored once, lower id first.
badge_class_relations = Table(
    "badge_class_relations",
    metadata,
    Column(
        "badge_class_id",
        Integer,
        ForeignKey("badge_classes.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "related_id",
        Integer,
        ForeignKey("badge_classes.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    CheckConstraint("badge_class_id < related_id", name="ordered"),
)

endorsements = Table(
    "endorsements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "badge_class_id",
        Integer,
        ForeignKey("badge_classes.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column(
        "endorser_id",
        Integer,
        ForeignKey("issuers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("comment", Text, nullable=True),
    Column("issued_on", UTCDateTime, nullable=False),
)

awards = Table(
    "awards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "badge_class_id",
        Integer,
        ForeignKey("badge_classes.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("hash", String(64), nullable=False, unique=True),
    Column("recipient_email", String(320), nullable=False),
    Column("salt", String(64), nullable=False),
    Column("issued_on", UTCDateTime, nullable=False),
    Column("expires", UTCDateTime, nullable=True),
    Column("evidence", Text, nullable=False),
    Column("revoked", Boolean, nullable=False),
    Column("revocation_reason", Text, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    # The platform's user the award was made to; it may go to that user's verified backpack
    # email even when it differs from ``recipient_email``.
    Column("owner", String(255), nullable=True, index=True),
    CheckConstraint("expires IS NULL OR expires > issued_on", name="expiry"),
    CheckConstraint(
        "(revoked AND revocation_reason IS NOT NULL AND revoked_at IS NOT NULL) OR "
        "(NOT revoked AND revocation_reason IS NULL AND revoked_at IS NULL)",
        name="revocation",
    ),
)

# Signing keys of the issuers (Open Badges 3.0). The private key is sealed like every secret;
# a retired key stays, so that the DID document keeps listing it and old credentials verify.
issuer_keys = Table(
    "issuer_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "issuer_id",
        Integer,
        ForeignKey("issuers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("algorithm", String(16), nullable=False),
    Column("public_multikey", Text, nullable=False),
    Column("private_key", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("retired_at", UTCDateTime, nullable=True),
    CheckConstraint("algorithm IN ('Ed25519', 'P-256')", name="algorithm"),
)

# One entry of an issuer's BitstringStatusList per award: the unique constraints make the
# index of an award, and each index of an issuer, given once only.
status_entries = Table(
    "status_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "issuer_id",
        Integer,
        ForeignKey("issuers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "award_id",
        Integer,
        ForeignKey("awards.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("status_index", Integer, nullable=False),
    UniqueConstraint("issuer_id", "status_index"),
)

# Background jobs (a bulk push or a move run by workers): the state lives here, not in a
# result backend, so that it survives any worker, broker or restart. ``owner`` is the learner
# whose backpack receives the awards (NULL for a site-only push). A move's ``provider_id`` is
# its target, ``source_provider_id`` its source; ``options`` (JSON) what it was asked to do,
# ``report`` (JSON) the proof's summary once it ended.
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("owner", String(255), nullable=True, index=True),
    Column("provider_id", Integer, nullable=True),
    Column("issuer_base_url", String(2048), nullable=False),
    Column("refresh", Boolean, nullable=False),
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("source_provider_id", Integer, nullable=True),
    Column("options", Text, nullable=True),
    Column("report", Text, nullable=True),
    CheckConstraint("state IN ('queued', 'running', 'done', 'failed', 'cancelled')", name="state"),
)

# One row per award of a job: which chunk (task) pushes it and what became of it. An item
# moves from ``pending`` to ``done`` or ``failed`` once, so a task run twice counts once.
# A move's items are its badges: ``award_hash`` a digest of the badge's source key,
# ``chunk`` its place in the source's order, ``detail`` its report line (JSON).
job_items = Table(
    "job_items",
    metadata,
    Column("job_id", String(32), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("award_hash", String(64), primary_key=True),
    Column("owner", String(255), nullable=True, index=True),
    Column("chunk", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("result", Text, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("detail", Text, nullable=True),
    CheckConstraint("status IN ('pending', 'done', 'failed')", name="status"),
)
