"""Fixtures for the issuer tests: a seeded registry and its documents."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from openbackpack.issuer import IssuerDocuments, IssuerUrls
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
