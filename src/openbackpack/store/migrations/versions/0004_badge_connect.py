"""Badge Connect: pending OAuth authorizations and discovered manifests.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from openbackpack.store._types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _provider_fk(*, primary_key: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "provider_id",
        sa.Integer,
        sa.ForeignKey("providers.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_table(
        "oauth_states",
        sa.Column("id", sa.Integer, primary_key=True),
        _provider_fk(),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.Text, nullable=False),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("state_hash", name="uq_oauth_states_state_hash"),
    )
    op.create_index("ix_oauth_states_provider_id", "oauth_states", ["provider_id"])
    op.create_table(
        "badgeconnect_manifests",
        _provider_fk(primary_key=True),
        sa.Column("manifest_url", sa.Text, nullable=False),
        sa.Column("etag", sa.Text, nullable=True),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("fresh_until", UTCDateTime(), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("image", sa.Text, nullable=True),
        sa.Column("api_base", sa.Text, nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("authorization_url", sa.Text, nullable=False),
        sa.Column("token_url", sa.Text, nullable=False),
        sa.Column("registration_url", sa.Text, nullable=True),
        sa.Column("revocation_url", sa.Text, nullable=True),
        sa.Column("scopes_offered", sa.Text, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("badgeconnect_manifests")
    op.drop_index("ix_oauth_states_provider_id", table_name="oauth_states")
    op.drop_table("oauth_states")
