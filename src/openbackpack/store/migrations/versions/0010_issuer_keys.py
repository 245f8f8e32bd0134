"""Open Badges 3.0: issuer signing keys and status list entries.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from openbackpack.store._types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issuer_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "issuer_id",
            sa.Integer,
            sa.ForeignKey("issuers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("public_multikey", sa.Text, nullable=False),
        sa.Column("private_key", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("algorithm IN ('Ed25519', 'P-256')", name="ck_issuer_keys_algorithm"),
    )
    op.create_index("ix_issuer_keys_issuer_id", "issuer_keys", ["issuer_id"])
    op.create_table(
        "status_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "issuer_id",
            sa.Integer,
            sa.ForeignKey("issuers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "award_id",
            sa.Integer,
            sa.ForeignKey("awards.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status_index", sa.Integer, nullable=False),
        sa.UniqueConstraint("award_id", name="uq_status_entries_award_id"),
        sa.UniqueConstraint("issuer_id", "status_index", name="uq_status_entries_issuer_id"),
    )


def downgrade() -> None:
    op.drop_table("status_entries")
    op.drop_index("ix_issuer_keys_issuer_id", table_name="issuer_keys")
    op.drop_table("issuer_keys")
