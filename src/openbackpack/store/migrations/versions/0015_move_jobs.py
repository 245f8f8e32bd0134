"""Moves as jobs: the source backpack, the options, the final report, each badge's line.

A move job's ``provider_id`` is the target backpack, ``source_provider_id`` the source;
``options`` is the move's options as JSON and ``report`` the proof's summary once it ends.
A move job's items are its badges (keyed by a digest of the badge's source key), each with
its report line as JSON in ``detail``.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no constraint): no table is copied on SQLite, see 0012.
    op.add_column("jobs", sa.Column("source_provider_id", sa.Integer, nullable=True))
    op.add_column("jobs", sa.Column("options", sa.Text, nullable=True))
    op.add_column("jobs", sa.Column("report", sa.Text, nullable=True))
    op.add_column("job_items", sa.Column("detail", sa.Text, nullable=True))


def downgrade() -> None:
    # A push job cannot hold a move: drop the moves with their items first.
    op.execute("DELETE FROM job_items WHERE job_id IN (SELECT id FROM jobs WHERE kind = 'move')")
    op.execute("DELETE FROM jobs WHERE kind = 'move'")
    op.drop_column("job_items", "detail")
    op.drop_column("jobs", "report")
    op.drop_column("jobs", "options")
    op.drop_column("jobs", "source_provider_id")
