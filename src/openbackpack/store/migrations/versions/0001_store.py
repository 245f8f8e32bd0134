"""The store: site backpacks, accounts, selections, remote ids, tokens, settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from openbackpack.store._types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _provider_fk(*, primary_key: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "provider_id",
        sa.Integer,
        sa.ForeignKey(
            "providers.id",
            ondelete="CASCADE",
            name=None,
        ),
        nullable=False,
        primary_key=primary_key,
    )


def _account_fk(*, primary_key: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "account_id",
        sa.Integer,
        sa.ForeignKey("backpack_accounts.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def _times(*names: str) -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(name, UTCDateTime(), nullable=False) for name in names]


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("api_url", sa.String(255), nullable=False),
        sa.Column("web_url", sa.String(255), nullable=False),
        sa.Column("api_version", sa.String(8), nullable=False),
        sa.Column("sort_order", sa.Integer, nullable=False),
        *_times("created_at", "modified_at"),
        sa.CheckConstraint("api_version IN ('1', '2', '2.1')", name="ck_providers_api_version"),
        sa.UniqueConstraint("api_url", name="uq_providers_api_url"),
        sa.UniqueConstraint("web_url", name="uq_providers_web_url"),
    )
    op.create_table(
        "oauth_clients",
        _provider_fk(primary_key=True),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("client_secret", sa.Text, nullable=True),
        sa.Column("token_endpoint_auth_method", sa.String(64), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("registration", sa.Text, nullable=True),
        *_times("created_at", "modified_at"),
    )
    op.create_table(
        "backpack_accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        _provider_fk(),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password", sa.Text, nullable=True),
        sa.Column("remote_user_id", sa.String(255), nullable=True),
        *_times("created_at", "modified_at"),
        sa.UniqueConstraint("owner", "provider_id", name="uq_backpack_accounts_owner_provider"),
    )
    op.create_index("ix_backpack_accounts_provider_id", "backpack_accounts", ["provider_id"])
    op.create_table(
        "selected_collections",
        sa.Column("id", sa.Integer, primary_key=True),
        _account_fk(),
        sa.Column("group_id", sa.Integer, nullable=True),
        sa.Column("entity_id", sa.String(255), nullable=True),
        sa.CheckConstraint(
            "(group_id IS NULL AND entity_id IS NOT NULL) OR "
            "(group_id IS NOT NULL AND entity_id IS NULL)",
            name="ck_selected_collections_one_key",
        ),
    )
    op.create_index("ix_selected_collections_account_id", "selected_collections", ["account_id"])
    op.create_table(
        "external_identifiers",
        sa.Column("id", sa.Integer, primary_key=True),
        _provider_fk(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("internal_key", sa.String(255), nullable=False),
        sa.Column("external_id", sa.Text, nullable=False),
        *_times("created_at"),
        sa.UniqueConstraint(
            "provider_id", "kind", "internal_key", name="uq_external_identifiers_key"
        ),
        sa.CheckConstraint(
            "kind IN ('Issuer', 'BadgeClass', 'Assertion')", name="ck_external_identifiers_kind"
        ),
    )
    op.create_index("ix_external_identifiers_provider_id", "external_identifiers", ["provider_id"])
    for name in ("oauth_tokens", "token_cache"):
        extra = (
            [
                sa.Column("expires_at", UTCDateTime(), nullable=True),
                sa.Column("scope", sa.Text, nullable=False),
            ]
            if name == "oauth_tokens"
            else [sa.Column("expires_at", UTCDateTime(), nullable=False)]
        )
        op.create_table(
            name,
            _account_fk(primary_key=True),
            _provider_fk(),
            sa.Column("access_token", sa.Text, nullable=False),
            sa.Column("refresh_token", sa.Text, nullable=True),
            *extra,
            *_times(
                *(("created_at", "modified_at") if name == "oauth_tokens" else ("modified_at",))
            ),
        )
        op.create_index(f"ix_{name}_provider_id", name, ["provider_id"])
    op.create_table(
        "pending_verifications",
        sa.Column("id", sa.Integer, primary_key=True),
        _provider_fk(),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password", sa.Text, nullable=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        *_times("created_at", "expires_at"),
        sa.UniqueConstraint("owner", "provider_id", name="uq_pending_verifications_owner_provider"),
    )
    op.create_index(
        "ix_pending_verifications_provider_id", "pending_verifications", ["provider_id"]
    )
    for name in ("settings", "store_meta"):
        op.create_table(
            name,
            sa.Column("key", sa.String(64), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )


def downgrade() -> None:
    for name in (
        "store_meta",
        "settings",
        "pending_verifications",
        "token_cache",
        "oauth_tokens",
        "external_identifiers",
        "selected_collections",
        "backpack_accounts",
        "oauth_clients",
        "providers",
    ):
        op.drop_table(name)
