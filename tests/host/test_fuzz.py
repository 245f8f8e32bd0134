"""Property-based: schemathesis walks the host's own OpenAPI document and finds no 500.

Bounded on purpose: a few examples per operation and mode, derandomised so every run sends
the same requests, with no example database written to disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from openbackpack.host import HostSettings, RunningHost, run_host_in_thread, served_routes
from tests.host._helpers import create_badgeclass, create_issuer, new_account

EXAMPLES = 6


@pytest.fixture(scope="module")
def fuzzed_host(host_db_url: str) -> Iterator[RunningHost]:
    """A host of its own on each backend (PostgreSQL refuses inputs SQLite lets through)."""
    settings = HostSettings(db_url=host_db_url, login_backoff_max=0, fetch_timeout=1)
    with run_host_in_thread(settings) as running:
        yield running


def _fuzz(operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]) -> None:
    failures: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")

    try:
        run()
    except Unsatisfiable:
        # Operations without parameters or body have nothing to make invalid.
        assert mode is GenerationMode.NEGATIVE
    assert failures == []


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_no_operation_answers_a_server_error(
    http: httpx2.Client, fuzzed_host: RunningHost, mode: GenerationMode
) -> None:
    """Generated valid and invalid requests to every documented operation never get a 5xx."""
    account = new_account(http, fuzzed_host, prefix="fuzz")
    issuer = create_issuer(http, fuzzed_host, account)
    create_badgeclass(http, fuzzed_host, account, issuer)
    schema = schemathesis.openapi.from_url(f"{fuzzed_host.base_url}/openapi.json")
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(served_routes())
    for operation in operations:
        _fuzz(operation, mode, fuzzed_host.base_url, {"Authorization": f"Bearer {account.token}"})
