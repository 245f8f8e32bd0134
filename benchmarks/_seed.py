"""Seeding the host and the store before a benchmark measures anything.

Through the host's API where that is quick enough (an issuer, a badge class, a few hundred
awards), and by direct inserts into the host's database where it is not (a hundred
thousand awards): seeding is not what is measured.
"""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import insert, select

from openbackpack.client import BackpackClient, map_bounded
from openbackpack.host import HostDatabase, add_user
from openbackpack.host import _schema as host_tables
from openbackpack.protocols import badgr
from openbackpack.services import add_backpack
from openbackpack.store import BackpackAccount, Provider, Store

__all__ = [
    "EARNER_EMAIL",
    "EARNER_PASSWORD",
    "ISSUER_EMAIL",
    "ISSUER_PASSWORD",
    "PNG",
    "RemoteBadge",
    "add_host_users",
    "award_many",
    "create_collection",
    "create_issuer_and_badge",
    "insert_awards",
    "loopback_allowed",
    "site_store",
    "user_store",
    "workdir",
]

ISSUER_EMAIL: Final = "issuer@example.org"
ISSUER_PASSWORD: Final = "issuer-password"
EARNER_EMAIL: Final = "earner@example.org"
EARNER_PASSWORD: Final = "earner-password"

PNG: Final = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
"""A 1x1 PNG: badge classes and issuers need an image."""

_INSERT_BATCH = 5000


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    """A temporary directory for one benchmark's databases and logs, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="openbackpack-bench-") as directory:
        yield Path(directory)


LOOPBACK_POLICY: Final = {
    "OPENBACKPACK_ALLOWED_HOSTS": "127.0.0.0/8,::1,localhost",
    "OPENBACKPACK_ALLOWED_PORTS": "*",
}
"""The client address policy that lets a benchmark call its own hosts on loopback ports."""


@contextlib.contextmanager
def loopback_allowed() -> Iterator[None]:
    """Let this process (and any child it starts) call loopback hosts on any port, then restore.

    The hosts a benchmark starts announce themselves on ``127.0.0.1:<free port>``, which the
    default policy refuses (only public hosts on 80 and 443); the policy is read from the
    environment at each call, so setting it here also covers the children, which inherit it.
    """
    saved = {name: os.environ.get(name) for name in LOOPBACK_POLICY}
    os.environ.update(LOOPBACK_POLICY)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def add_host_users(db_url: str, *accounts: tuple[str, str]) -> None:
    """Create (and migrate) the host database with these (email, password) accounts."""
    database = HostDatabase.open(db_url)
    try:
        for email, password in accounts:
            add_user(database, email, password)
    finally:
        database.close()


@dataclass(frozen=True, slots=True)
class RemoteBadge:
    """An issuer and a badge class on the host, and the token of the account that owns them."""

    token: str
    issuer_id: str
    badgeclass_id: str


def _first(answer: Any) -> dict[str, Any]:
    result: dict[str, Any] = answer.json()["result"][0]
    return result


def create_issuer_and_badge(client: BackpackClient, api_url: str) -> RemoteBadge:
    """Log in as the issuer account and create an issuer and a badge class through the API."""
    token = client.password_grant(api_url, ISSUER_EMAIL, ISSUER_PASSWORD).access_token
    issuer = _first(
        client.fetch(
            badgr.route("issuers.create"),
            api_url,
            data={"name": "Benchmark University", "email": ISSUER_EMAIL, "url": "https://e.org"},
            token=token,
        )
    )
    image = "data:image/png;base64," + base64.b64encode(PNG).decode("ascii")
    badge = _first(
        client.fetch(
            badgr.route("issuer.badgeclasses.create"),
            api_url,
            params={"issuer": issuer["entityId"]},
            data={"name": "Benchmark", "description": "Seeded.", "image": image},
            token=token,
        )
    )
    return RemoteBadge(token, str(issuer["entityId"]), str(badge["entityId"]))


def award_many(
    client: BackpackClient,
    api_url: str,
    remote: RemoteBadge,
    recipients: Sequence[str],
    *,
    concurrency: int = 8,
) -> list[str]:
    """Award the badge class to each recipient through the API; return the awards' ids."""

    def award(email: str) -> str:
        answer = client.fetch(
            badgr.route("badgeclass.assertions.create"),
            api_url,
            params={"badgeclass": remote.badgeclass_id},
            data={"recipient": {"identity": email, "type": "email"}},
            token=remote.token,
        )
        return str(_first(answer)["entityId"])

    outcomes = map_bounded(award, recipients, concurrency)
    failed = [o for o in outcomes if not isinstance(o, str)]
    if failed:
        raise RuntimeError(f"seeding failed: {failed[0]}")
    return [o for o in outcomes if isinstance(o, str)]


def insert_awards(db_url: str, badgeclass_id: str, count: int) -> None:
    """Insert ``count`` awards of the badge class straight into the host's database.

    Rows are built as the host's create route builds them (plain e-mail recipients, one
    second apart), in batches, in one transaction.
    """
    database = HostDatabase.open(db_url)
    try:
        with database.begin() as connection:
            badge = connection.execute(
                select(host_tables.badgeclasses.c.id).where(
                    host_tables.badgeclasses.c.entity_id == badgeclass_id
                )
            ).scalar_one()
            start = datetime(2024, 1, 1, tzinfo=UTC)
            for first in range(0, count, _INSERT_BATCH):
                rows = [
                    _award_row(badge, n, start)
                    for n in range(first, min(count, first + _INSERT_BATCH))
                ]
                connection.execute(insert(host_tables.assertions), rows)
    finally:
        database.close()


def _award_row(badgeclass: int, n: int, start: datetime) -> dict[str, Any]:
    moment = start + timedelta(seconds=n)
    return {
        "entity_id": f"bench{n:017d}",
        "badgeclass_id": badgeclass,
        "created_by": "benchmark",
        "recipient_identity": f"learner{n}@example.org",
        "recipient_type": "email",
        "hashed": True,
        "salt": f"{n:032x}",
        "issued_on": moment,
        "evidence": "[]",
        "extensions": "{}",
        "revoked": False,
        "acceptance": "Unaccepted",
        "created_at": moment,
    }


def site_store(path: Path, api_url: str) -> Store:
    """A store whose primary (site) backpack is ``api_url``, with the issuer's site account.

    Its Fernet key is created beside the file, as for any SQLite store.
    """
    store = Store.open(f"sqlite:///{path}")
    web_url = api_url.rsplit("/", 1)[0]
    add_backpack(store, api_url, web_url, "2", email=ISSUER_EMAIL, password=ISSUER_PASSWORD)
    return store


def user_store(path: Path, api_url: str, owner: str) -> tuple[Store, Provider, BackpackAccount]:
    """A store with ``api_url`` as a (v2) backpack and ``owner``'s account on it (the earner)."""
    store = Store.open(f"sqlite:///{path}")
    add_backpack(store, api_url, api_url.rsplit("/", 1)[0], "2")
    with store.transaction() as tx:
        provider = tx.providers.primary()
        assert provider is not None
        account = tx.accounts.create(provider.id, owner, EARNER_EMAIL, EARNER_PASSWORD)
    return store, provider, account


def create_collection(
    client: BackpackClient, api_url: str, token: str, assertions: Sequence[str]
) -> str:
    """Create a collection in the token owner's backpack holding ``assertions``; its id."""
    answer = client.fetch(
        badgr.route("backpack.collections.create"),
        api_url,
        data={"name": "Benchmark collection", "assertions": list(assertions)},
        token=token,
    )
    return str(_first(answer)["entityId"])
