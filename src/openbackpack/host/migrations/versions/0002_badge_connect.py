"""Badge Connect: registered clients, authorization codes, tokens bound to a client.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from openbackpack.store._types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "host_oauth_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("auth_method", sa.String(length=32), nullable=False),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("grant_types", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_oauth_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_host_oauth_clients_client_id")),
    )
    op.create_table(
        "host_oauth_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("challenge", sa.String(length=128), nullable=True),
        sa.Column("challenge_method", sa.String(length=8), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["host_oauth_clients.id"],
            name=op.f("fk_host_oauth_codes_client_id_host_oauth_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["host_users.id"],
            name=op.f("fk_host_oauth_codes_user_id_host_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_oauth_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_host_oauth_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_host_oauth_codes_client_id"), "host_oauth_codes", ["client_id"], unique=False
    )
    op.create_index(
        op.f("ix_host_oauth_codes_user_id"), "host_oauth_codes", ["user_id"], unique=False
    )
    with op.batch_alter_table("host_tokens") as batch:
        batch.alter_column(
            "scope", type_=sa.Text(), existing_type=sa.String(length=255), existing_nullable=False
        )
        batch.add_column(sa.Column("client_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("refreshable", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.create_index(op.f("ix_host_tokens_client_id"), ["client_id"], unique=False)
        batch.create_foreign_key(
            op.f("fk_host_tokens_client_id_host_oauth_clients"),
            "host_oauth_clients",
            ["client_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("host_tokens") as batch:
        batch.drop_constraint(
            op.f("fk_host_tokens_client_id_host_oauth_clients"), type_="foreignkey"
        )
        batch.drop_index(op.f("ix_host_tokens_client_id"))
        batch.drop_column("refreshable")
        batch.drop_column("client_id")
        batch.alter_column(
            "scope", type_=sa.String(length=255), existing_type=sa.Text(), existing_nullable=False
        )
    op.drop_index(op.f("ix_host_oauth_codes_user_id"), table_name="host_oauth_codes")
    op.drop_index(op.f("ix_host_oauth_codes_client_id"), table_name="host_oauth_codes")
    op.drop_table("host_oauth_codes")
    op.drop_table("host_oauth_clients")
