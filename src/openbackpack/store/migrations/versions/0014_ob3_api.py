"""Open Badges 3.0 API backpacks: API version 3.0, and what their discovery document says.

A provider may speak API version ``3.0``. Its service description is kept in the manifests
table with a ``Last-Modified`` validator beside the ETag (for ``If-Modified-Since``) and the
host's privacy policy URL.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

_CHECK = "ck_providers_api_version"
_OLD = "'1', '2', '2.1'"
_NEW = "'1', '2', '2.1', '3.0'"


def _versions(old: str, new: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(_CHECK, "providers", type_="check")
        op.create_check_constraint(_CHECK, "providers", f"api_version IN ({new})")
        return
    # Rebuilding the table (batch mode) would drop it, and its ON DELETE CASCADE would empty
    # every table that refers to providers; foreign keys cannot be switched off inside the
    # migration's transaction. SQLite documents editing the stored CREATE TABLE instead for
    # a constraint change that every existing row satisfies (sqlite.org/lang_altertable.html).
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ?",
        (f"api_version IN ({old})", f"api_version IN ({new})", "providers"),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def upgrade() -> None:
    _versions(_OLD, _NEW)
    with op.batch_alter_table("badgeconnect_manifests") as batch:
        batch.add_column(sa.Column("last_modified", sa.Text, nullable=True))
        batch.add_column(sa.Column("privacy_policy_url", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("badgeconnect_manifests") as batch:
        batch.drop_column("privacy_policy_url")
        batch.drop_column("last_modified")
    op.execute("DELETE FROM providers WHERE api_version = '3.0'")
    _versions(_NEW, _OLD)
