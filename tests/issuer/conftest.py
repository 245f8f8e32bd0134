"""Fixtures for the issuer tests: a seeded registry, its documents, and a live loopback server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from openbackpack.issuer import IssuerDocuments, IssuerUrls, create_issuer_app
from openbackpack.serve import base_url_of, bind_socket, serve_in_thread
from openbackpack.store import Store
from tests.registry_data import Seeded, seed

BASE_URL = "https://badges.example.org"


@pytest.fixture
def seeded(store: Store) -> Seeded:
    """The store filled with one of everything."""
    with store.transaction() as tx:
        return seed(tx)


@pytest.fixture
def documents(store: Store, seeded: Seeded) -> Iterator[IssuerDocuments]:
    """The registry's documents, with ids under BASE_URL."""
    with store.transaction() as tx:
        yield IssuerDocuments(tx, IssuerUrls(BASE_URL))


@dataclass(frozen=True)
class LiveIssuer:
    url: str
    ids: Seeded


@pytest.fixture
def live_issuer(store: Store, seeded: Seeded) -> Iterator[LiveIssuer]:
    """The issuer app served over real loopback HTTP on a free port."""
    sock = bind_socket()
    app = create_issuer_app(store, base_url_of(sock))
    with serve_in_thread(app, sock=sock) as url:
        yield LiveIssuer(url, seeded)
