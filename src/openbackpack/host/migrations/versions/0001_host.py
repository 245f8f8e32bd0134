"""The reference host: accounts, tokens, issuer side, backpacks.

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


def upgrade() -> None:
    op.create_table(
        "host_login_failures",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_host_login_failures")),
    )
    op.create_table(
        "host_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("first_name", sa.String(length=150), nullable=False),
        sa.Column("last_name", sa.String(length=150), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_users")),
        sa.UniqueConstraint("entity_id", name=op.f("uq_host_users_entity_id")),
    )
    op.create_table(
        "host_collections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("share_hash", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["host_users.id"],
            name=op.f("fk_host_collections_user_id_host_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_collections")),
        sa.UniqueConstraint("entity_id", name=op.f("uq_host_collections_entity_id")),
        sa.UniqueConstraint("share_hash", name=op.f("uq_host_collections_share_hash")),
    )
    with op.batch_alter_table("host_collections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_host_collections_user_id"), ["user_id"], unique=False)

    op.create_table(
        "host_emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["host_users.id"],
            name=op.f("fk_host_emails_user_id_host_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_emails")),
        sa.UniqueConstraint("email", name=op.f("uq_host_emails_email")),
    )
    with op.batch_alter_table("host_emails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_host_emails_user_id"), ["user_id"], unique=False)

    op.create_table(
        "host_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source_url", sa.String(length=2048), nullable=False),
        sa.Column("badgeclass_eid", sa.String(length=32), nullable=False),
        sa.Column("issuer_eid", sa.String(length=32), nullable=False),
        sa.Column("assertion_json", sa.Text(), nullable=False),
        sa.Column("badgeclass_json", sa.Text(), nullable=False),
        sa.Column("issuer_json", sa.Text(), nullable=False),
        sa.Column("recipient_identity", sa.String(length=1024), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("issued_on", UTCDateTime(), nullable=True),
        sa.Column("expires", UTCDateTime(), nullable=True),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.Column("image_type", sa.String(length=32), nullable=True),
        sa.Column("acceptance", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["host_users.id"],
            name=op.f("fk_host_imports_user_id_host_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_imports")),
        sa.UniqueConstraint("entity_id", name=op.f("uq_host_imports_entity_id")),
        sa.UniqueConstraint("user_id", "source_url", name=op.f("uq_host_imports_user_id")),
    )
    with op.batch_alter_table("host_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_host_imports_user_id"), ["user_id"], unique=False)

    op.create_table(
        "host_issuers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.Column("image_type", sa.String(length=32), nullable=True),
        sa.Column("extensions", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["host_users.id"],
            name=op.f("fk_host_issuers_owner_id_host_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_issuers")),
        sa.UniqueConstraint("entity_id", name=op.f("uq_host_issuers_entity_id")),
    )
    with op.batch_alter_table("host_issuers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_host_issuers_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "host_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("access_hash", sa.String(length=64), nullable=False),
        sa.Column("refresh_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["host_users.id"],
            name=op.f("fk_host_tokens_user_id_host_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_tokens")),
        sa.UniqueConstraint("access_hash", name=op.f("uq_host_tokens_access_hash")),
        sa.UniqueConstraint("refresh_hash", name=op.f("uq_host_tokens_refresh_hash")),
    )
    with op.batch_alter_table("host_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_host_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "host_badgeclasses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.Column("image_type", sa.String(length=32), nullable=False),
        sa.Column("criteria_url", sa.String(length=1024), nullable=True),
        sa.Column("criteria_narrative", sa.Text(), nullable=True),
        sa.Column("alignments", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("expires_amount", sa.Integer(), nullable=True),
        sa.Column("expires_duration", sa.String(length=16), nullable=True),
        sa.Column("extensions", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"],
            ["host_issuers.id"],
            name=op.f("fk_host_badgeclasses_issuer_id_host_issuers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_badgeclasses")),
        sa.UniqueConstraint("entity_id", name=op.f("uq_host_badgeclasses_entity_id")),
    )
    with op.batch_alter_table("host_badgeclasses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_host_badgeclasses_issuer_id"), ["issuer_id"], unique=False
        )

    op.create_table(
        "host_collection_items",
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("item_eid", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["host_collections.id"],
            name=op.f("fk_host_collection_items_collection_id_host_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("collection_id", "item_eid", name=op.f("pk_host_collection_items")),
    )
    op.create_table(
        "host_assertions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("badgeclass_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("recipient_identity", sa.String(length=1024), nullable=False),
        sa.Column("recipient_type", sa.String(length=16), nullable=False),
        sa.Column("hashed", sa.Boolean(), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("issued_on", UTCDateTime(), nullable=False),
        sa.Column("expires", UTCDateTime(), nullable=True),
        sa.Column("narrative", sa.Text(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("extensions", sa.Text(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("acceptance", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["badgeclass_id"],
            ["host_badgeclasses.id"],
            name=op.f("fk_host_assertions_badgeclass_id_host_badgeclasses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_assertions")),
        sa.UniqueConstraint("entity_id", name=op.f("uq_host_assertions_entity_id")),
    )
    with op.batch_alter_table("host_assertions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_host_assertions_badgeclass_id"), ["badgeclass_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_host_assertions_recipient_identity"),
            ["recipient_identity"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("host_assertions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_host_assertions_recipient_identity"))
        batch_op.drop_index(batch_op.f("ix_host_assertions_badgeclass_id"))

    op.drop_table("host_assertions")
    op.drop_table("host_collection_items")
    with op.batch_alter_table("host_badgeclasses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_host_badgeclasses_issuer_id"))

    op.drop_table("host_badgeclasses")
    with op.batch_alter_table("host_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_host_tokens_user_id"))

    op.drop_table("host_tokens")
    with op.batch_alter_table("host_issuers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_host_issuers_owner_id"))

    op.drop_table("host_issuers")
    with op.batch_alter_table("host_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_host_imports_user_id"))

    op.drop_table("host_imports")
    with op.batch_alter_table("host_emails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_host_emails_user_id"))

    op.drop_table("host_emails")
    with op.batch_alter_table("host_collections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_host_collections_user_id"))

    op.drop_table("host_collections")
    op.drop_table("host_users")
    op.drop_table("host_login_failures")
