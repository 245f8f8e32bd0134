"""The external badges cache: what each account's selected collections held when last read.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from openbackpack.store._types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "badge_cache",
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("backpack_accounts.id", ondelete="CASCADE"),
            nullable=False,
            primary_key=True,
        ),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("badge_cache")
