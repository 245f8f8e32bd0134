"""Two reference hosts on loopback and a store that uses them, for the flow tests.

``primary`` is the site's primary Badgr backpack (with the site's issuer account); ``other`` is
a second Badgr backpack where a learner may also hold an account, so the import-by-URL path is
exercised across hosts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from openbackpack.client import BackpackClient, RetryPolicy
from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.protocols import badgr
from openbackpack.services import MaildirMailer, add_backpack
from openbackpack.store import Store
from tests.registry_data import PNG
from tests.services._ob3 import Ob3Site, ob3_host_settings, ob3_site

ISSUER_EMAIL = "issuer@example.org"
ISSUER_PASSWORD = "issuer-password"
LEARNER_EMAIL = "learner@example.org"
LEARNER_PASSWORD = "learner-password"
OTHER_EMAIL = "other@example.org"
OTHER_PASSWORD = "other-password"
LEARNER = "learner-1"
ISSUER_BASE = "http://127.0.0.1:9/issuer"  # ids only: the hosts fetch the Badgr copies

FAST = RetryPolicy(attempts=3, initial_delay=0.001, max_delay=0.005, wait_scale=0.01)


@dataclass(frozen=True)
class Hosts:
    primary: RunningHost
    other: RunningHost


def _settings(directory: Path, name: str) -> HostSettings:
    return HostSettings(
        db_url=f"sqlite:///{directory / f'{name}.sqlite3'}",
        allow_private_fetch=True,
        login_backoff_max=0,
    )


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    """Two hosts for the module, with the issuer and learners registered on them."""
    directory = tmp_path_factory.mktemp("hosts")
    with (
        run_host_in_thread(_settings(directory, "primary")) as primary,
        run_host_in_thread(_settings(directory, "other")) as other,
    ):
        primary.add_user(ISSUER_EMAIL, ISSUER_PASSWORD)
        for host in (primary, other):
            host.add_user(LEARNER_EMAIL, LEARNER_PASSWORD)
            host.add_user(OTHER_EMAIL, OTHER_PASSWORD)
        yield Hosts(primary, other)


@pytest.fixture
def client() -> Iterator[BackpackClient]:
    """A client with fast retries."""
    with BackpackClient(retry=FAST) as shared:
        yield shared


@dataclass(frozen=True)
class Site:
    store: Store
    primary_id: int
    other_id: int
    badge_id: int
    second_badge_id: int
    outbox: MaildirMailer


@pytest.fixture
def site(store: Store, hosts: Hosts, tmp_path: Path) -> Site:
    """A store whose primary backpack is the primary host, plus the other host, and a registry."""
    primary = add_backpack(
        store,
        hosts.primary.api_url,
        hosts.primary.base_url + "/web",
        "2",
        email=ISSUER_EMAIL,
        password=ISSUER_PASSWORD,
    )
    other = add_backpack(store, hosts.other.api_url, hosts.other.base_url + "/web", "2")
    with store.transaction() as tx:
        issuer = tx.issuers.create("Example University", "https://example.org", ISSUER_EMAIL)
        badge = tx.badge_classes.create(
            issuer.id, "Python basics", "Completed the course.", PNG, criteria_narrative="Pass."
        )
        second = tx.badge_classes.create(
            issuer.id, "Python advanced", "Completed more.", PNG, criteria_url="https://e.org/c"
        )
    return Site(store, primary.id, other.id, badge.id, second.id, MaildirMailer(tmp_path / "out"))


def award(site: Site, email: str = LEARNER_EMAIL, badge_id: int | None = None) -> str:
    """Award a badge of the registry to ``email`` and return its hash."""
    with site.store.transaction() as tx:
        return tx.awards.create(badge_id or site.badge_id, email).hash


def connect(
    site: Site,
    provider_id: int,
    owner: str = LEARNER,
    email: str = LEARNER_EMAIL,
    password: str = LEARNER_PASSWORD,
) -> int:
    """Store an account directly (the verification flow has its own tests); return its id."""
    with site.store.transaction() as tx:
        return tx.accounts.create(provider_id, owner, email, password).id


def collection(
    client: BackpackClient,
    host: RunningHost,
    email: str,
    password: str,
    assertions: list[str],
    *,
    published: bool = True,
    name: str = "Mine",
) -> str:
    """Create a collection in a user's backpack on ``host`` holding ``assertions``."""
    token = client.password_grant(host.api_url, email, password).access_token
    created = client.fetch(
        badgr.route("backpack.collections.create"),
        host.api_url,
        data={"name": name, "published": published},
        token=token,
    ).json()["result"][0]
    client.fetch(
        badgr.route("backpack.collections.update"),
        host.api_url,
        params={"collection": created["entityId"]},
        data={"name": name, "published": published, "assertions": assertions},
        token=token,
    )
    return str(created["entityId"])


def _bc_host_settings(directory: Path, name: str, **options: object) -> HostSettings:
    return HostSettings(
        db_url=f"sqlite:///{directory / f'{name}.sqlite3'}",
        allow_private_fetch=True,
        login_backoff_max=0,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def bc_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A Badge Connect host answering as the specification says."""
    with run_host_in_thread(_bc_host_settings(tmp_path_factory.mktemp("bc"), "spec")) as running:
        yield running


@pytest.fixture(scope="module")
def badgr_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A Badge Connect host answering as Badgr does."""
    settings = _bc_host_settings(tmp_path_factory.mktemp("bc"), "badgr", badgr_quirks=True)
    with run_host_in_thread(settings) as running:
        yield running


@pytest.fixture(scope="module")
def ob3_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """The reference host serving the Open Badges 3.0 API (one per test module)."""
    settings = ob3_host_settings(tmp_path_factory.mktemp("ob3"), "host")
    with run_host_in_thread(settings) as running:
        yield running


@pytest.fixture
def ob3site(store: Store, ob3_host: RunningHost) -> Iterator[Ob3Site]:
    """The store with the reference host as an Open Badges 3.0 backpack."""
    with ob3_site(store, ob3_host) as running:
        yield running
