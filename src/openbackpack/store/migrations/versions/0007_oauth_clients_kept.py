"""Keep every registered OAuth client; link tokens and pending authorizations to theirs.

A Badge Connect host refreshes a token only for the client it was issued to, so a new
registration must not replace the client earlier accounts were connected through.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from openbackpack.store._types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COLUMNS = (
    "provider_id",
    "client_id",
    "client_secret",
    "token_endpoint_auth_method",
    "scope",
    "registration",
    "created_at",
    "modified_at",
)


def _client_columns(*, keyed: bool) -> list[Any]:
    provider = sa.Column(
        "provider_id",
        sa.Integer,
        sa.ForeignKey("providers.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=not keyed,
    )
    head = [sa.Column("id", sa.Integer, primary_key=True), provider] if keyed else [provider]
    return [
        *head,
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("client_secret", sa.Text, nullable=True),
        sa.Column("token_endpoint_auth_method", sa.String(64), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("registration", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("modified_at", UTCDateTime(), nullable=False),
    ]


def _aware(value: Any) -> Any:
    # Reflected columns read the stored naive UTC; UTCDateTime takes only aware datetimes.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _rebuild_clients(*, keyed: bool) -> None:
    # Read, drop, create, write back: changing a primary key in place is not portable, and
    # a renamed table would keep its old constraint names on PostgreSQL.
    bind = op.get_bind()
    old = sa.Table("oauth_clients", sa.MetaData(), autoload_with=bind)
    rows = [dict(row._mapping) for row in bind.execute(sa.select(old))]
    if not keyed:
        # Back to one client per provider: the newest (current) one stays.
        newest: dict[int, dict[str, Any]] = {}
        for row in sorted(rows, key=lambda r: int(r["id"])):
            newest[int(row["provider_id"])] = row
        rows = list(newest.values())
    op.drop_table("oauth_clients")
    table = op.create_table("oauth_clients", *_client_columns(keyed=keyed))
    if keyed:
        op.create_index("ix_oauth_clients_provider_id", "oauth_clients", ["provider_id"])
    if rows:
        op.bulk_insert(table, [{name: _aware(row[name]) for name in _COLUMNS} for row in rows])


def _link(table: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column("oauth_client_id", sa.Integer, nullable=True))
        batch.create_index(f"ix_{table}_oauth_client_id", ["oauth_client_id"])
        batch.create_foreign_key(
            f"fk_{table}_oauth_client_id_oauth_clients",
            "oauth_clients",
            ["oauth_client_id"],
            ["id"],
            ondelete="SET NULL",
        )


def _unlink(table: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(f"fk_{table}_oauth_client_id_oauth_clients", type_="foreignkey")
        batch.drop_index(f"ix_{table}_oauth_client_id")
        batch.drop_column("oauth_client_id")


def upgrade() -> None:
    _rebuild_clients(keyed=True)
    _link("oauth_tokens")
    _link("oauth_states")
    # Tokens stored so far were issued to the provider's one client.
    op.execute(
        "UPDATE oauth_tokens SET oauth_client_id = (SELECT c.id FROM oauth_clients c "
        "WHERE c.provider_id = oauth_tokens.provider_id)"
    )


def downgrade() -> None:
    _unlink("oauth_states")
    _unlink("oauth_tokens")
    _rebuild_clients(keyed=False)
