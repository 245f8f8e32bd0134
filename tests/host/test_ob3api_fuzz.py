"""Property-based: schemathesis walks the 3.0 API's documented routes with a 3.0 token.

Bounded like the other fuzz tests: a few derandomised examples per operation and mode, no
example database on disk. The assertion is the specification's: no answer is a 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.protocols import ob3api
from tests.host._ob3 import Issuer, connect, push
from tests.host.test_fuzz import _fuzz

pytestmark = pytest.mark.usefixtures("loopback_allowed")


@pytest.fixture(scope="module")
def fuzzed_ob3_host(host_db_url: str, host: RunningHost) -> Iterator[RunningHost]:
    """A host of its own on the shared database (loopback redirects allowed, no throttle)."""
    settings = HostSettings(
        db_url=host_db_url,
        login_backoff_max=0,
        fetch_timeout=1,
        allow_loopback_redirects=True,
        migrate=False,
    )
    with run_host_in_thread(settings) as running:
        yield running


def _ours(path: str) -> bool:
    return path.startswith((ob3api.API_PATH, "/o/v3p0/"))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_no_3_0_operation_answers_a_server_error(
    http: httpx2.Client, fuzzed_ob3_host: RunningHost, mode: GenerationMode
) -> None:
    """Generated valid and invalid requests to every 3.0 route never get a 5xx."""
    connected = connect(http, fuzzed_ob3_host)
    assert push(http, fuzzed_ob3_host, connected, Issuer().credential()).status_code == 201
    schema = schemathesis.openapi.from_url(f"{fuzzed_ob3_host.base_url}/openapi.json")
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if isinstance(result, Ok) and _ours(result.ok().path)
    ]
    assert len(operations) == len(ob3api.ROUTES)
    for operation in operations:
        _fuzz(operation, mode, fuzzed_ob3_host.base_url, connected.headers)
