"""Awards: an optional owner, the platform's user the award was made to.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("awards") as batch:
        batch.add_column(sa.Column("owner", sa.String(255), nullable=True))
    op.create_index("ix_awards_owner", "awards", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_awards_owner", table_name="awards")
    with op.batch_alter_table("awards") as batch:
        batch.drop_column("owner")
