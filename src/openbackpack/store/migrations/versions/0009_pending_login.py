"""The login of a pending email verification, kept sealed so verifying needs no second login.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from openbackpack.store._types import UTCDateTime

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pending_verifications") as batch:
        batch.add_column(sa.Column("access_token", sa.Text, nullable=True))
        batch.add_column(sa.Column("refresh_token", sa.Text, nullable=True))
        batch.add_column(sa.Column("token_expires_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pending_verifications") as batch:
        batch.drop_column("token_expires_at")
        batch.drop_column("refresh_token")
        batch.drop_column("access_token")
