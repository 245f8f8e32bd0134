"""Jobs run by workers (and their items), and a shared rate limit per provider.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from openbackpack.store._types import UTCDateTime

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, no constraint: on SQLite a constraint would need the table copied
    # and dropped, and dropping ``providers`` cascades to everything that hangs off it.
    # The values are checked where they are written (Providers.set_rate_limit).
    op.add_column("providers", sa.Column("rate_limit", sa.Float, nullable=True))
    op.add_column("providers", sa.Column("burst", sa.Integer, nullable=True))
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(255), nullable=True),
        sa.Column("provider_id", sa.Integer, nullable=True),
        sa.Column("issuer_base_url", sa.String(2048), nullable=False),
        sa.Column("refresh", sa.Boolean, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed', 'cancelled')", name="ck_jobs_state"
        ),
    )
    op.create_index("ix_jobs_owner", "jobs", ["owner"])
    op.create_table(
        "job_items",
        sa.Column(
            "job_id",
            sa.String(32),
            sa.ForeignKey("jobs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("award_hash", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=True),
        sa.Column("chunk", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'done', 'failed')", name="ck_job_items_status"),
    )
    op.create_index("ix_job_items_owner", "job_items", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_job_items_owner", table_name="job_items")
    op.drop_table("job_items")
    op.drop_index("ix_jobs_owner", table_name="jobs")
    op.drop_table("jobs")
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), for the same reason as above.
    op.drop_column("providers", "burst")
    op.drop_column("providers", "rate_limit")
