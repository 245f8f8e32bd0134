"""The Open Badges 3.0 API: which API a client registered for, and each user's credentials.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from openbackpack.store._types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("host_oauth_clients") as batch:
        batch.add_column(
            sa.Column("api", sa.String(length=8), nullable=False, server_default="v2p1")
        )
    op.create_table(
        "host_ob3_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Text(), nullable=True),
        sa.Column("issuer_id", sa.Text(), nullable=False),
        sa.Column("achievement_id", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["host_users.id"],
            name=op.f("fk_host_ob3_credentials_user_id_host_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_ob3_credentials")),
    )
    op.create_index(
        op.f("ix_host_ob3_credentials_user_id"),
        "host_ob3_credentials",
        ["user_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_host_ob3_credentials_user_id"), table_name="host_ob3_credentials")
    op.drop_table("host_ob3_credentials")
    with op.batch_alter_table("host_oauth_clients") as batch:
        batch.drop_column("api")
