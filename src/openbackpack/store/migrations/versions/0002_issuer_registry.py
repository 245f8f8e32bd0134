"""The issuer registry: issuers, badge classes, their relations and endorsements, awards.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from openbackpack.store._types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_IMAGE_TYPES = "('image/png', 'image/svg+xml')"


def _fk(name: str, table: str, *, primary_key: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name,
        sa.Integer,
        sa.ForeignKey(f"{table}.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def _times(*names: str) -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(name, UTCDateTime(), nullable=False) for name in names]


def upgrade() -> None:
    op.create_table(
        "issuers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("image", sa.LargeBinary, nullable=True),
        sa.Column("image_type", sa.String(32), nullable=True),
        *_times("created_at", "modified_at"),
        sa.CheckConstraint(
            f"(image IS NULL AND image_type IS NULL) OR "
            f"(image IS NOT NULL AND image_type IN {_IMAGE_TYPES})",
            name="ck_issuers_image",
        ),
    )
    op.create_table(
        "badge_classes",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("issuer_id", "issuers"),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("image", sa.LargeBinary, nullable=False),
        sa.Column("image_type", sa.String(32), nullable=False),
        sa.Column("criteria_url", sa.Text, nullable=True),
        sa.Column("criteria_narrative", sa.Text, nullable=True),
        sa.Column("alignments", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("version", sa.String(64), nullable=True),
        sa.Column("language", sa.String(35), nullable=True),
        *_times("created_at", "modified_at"),
        sa.CheckConstraint(f"image_type IN {_IMAGE_TYPES}", name="ck_badge_classes_image_type"),
        sa.CheckConstraint(
            "criteria_url IS NOT NULL OR criteria_narrative IS NOT NULL",
            name="ck_badge_classes_criteria",
        ),
    )
    op.create_index("ix_badge_classes_issuer_id", "badge_classes", ["issuer_id"])
    op.create_table(
        "badge_class_relations",
        _fk("badge_class_id", "badge_classes", primary_key=True),
        _fk("related_id", "badge_classes", primary_key=True),
        sa.CheckConstraint("badge_class_id < related_id", name="ck_badge_class_relations_ordered"),
    )
    op.create_index("ix_badge_class_relations_related_id", "badge_class_relations", ["related_id"])
    op.create_table(
        "endorsements",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("badge_class_id", "badge_classes"),
        _fk("endorser_id", "issuers"),
        sa.Column("comment", sa.Text, nullable=True),
        *_times("issued_on"),
    )
    op.create_index("ix_endorsements_badge_class_id", "endorsements", ["badge_class_id"])
    op.create_index("ix_endorsements_endorser_id", "endorsements", ["endorser_id"])
    op.create_table(
        "awards",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("badge_class_id", "badge_classes"),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("recipient_email", sa.String(320), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        *_times("issued_on"),
        sa.Column("expires", UTCDateTime(), nullable=True),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
        sa.Column("revocation_reason", sa.Text, nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("hash", name="uq_awards_hash"),
        sa.CheckConstraint("expires IS NULL OR expires > issued_on", name="ck_awards_expiry"),
        sa.CheckConstraint(
            "(revoked AND revocation_reason IS NOT NULL AND revoked_at IS NOT NULL) OR "
            "(NOT revoked AND revocation_reason IS NULL AND revoked_at IS NULL)",
            name="ck_awards_revocation",
        ),
    )
    op.create_index("ix_awards_badge_class_id", "awards", ["badge_class_id"])


def downgrade() -> None:
    for name in ("awards", "endorsements", "badge_class_relations", "badge_classes", "issuers"):
        op.drop_table(name)
