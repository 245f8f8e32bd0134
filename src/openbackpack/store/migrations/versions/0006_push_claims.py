"""Push claims: intent recorded before a create on a host, a lease, what was last pushed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from openbackpack.store._types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_claims",
        sa.Column(
            "provider_id",
            sa.Integer,
            sa.ForeignKey("providers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("internal_key", sa.String(255), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("remote_id", sa.String(255), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("provider_id", "kind", "remote_id", name="uq_push_claims_remote_id"),
    )


def downgrade() -> None:
    op.drop_table("push_claims")
