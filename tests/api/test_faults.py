"""Failures on the wire: the host's injected faults, and the few it cannot make on demand."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from openbackpack import (
    InvalidResponseError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from openbackpack.client import RetryPolicy
from openbackpack.host import FaultSettings, HostSettings, RunningHost, run_host_in_thread
from tests.api.conftest import (
    EARNER_EMAIL,
    EARNER_PASSWORD,
    Backpacks,
    MakeApi,
    World,
    issuer_json,
)

pytestmark = pytest.mark.anyio


async def test_429_is_waited_out_then_retried(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """An injected 429 with Retry-After: 1 is retried after the (scaled) wait, and succeeds."""
    api = make_api(
        backpacks.v2, backpacks.v2_user, store=backpacks.store, retry=RetryPolicy(wait_scale=0.05)
    )
    await api.call("authenticate")
    world.host.faults.fail_next(1, 429)
    started = time.monotonic()
    assert await api.call("get_collections")
    assert time.monotonic() - started >= 0.05


async def test_429_until_attempts_run_out(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """A backpack that keeps throttling ends in RateLimitError with its Retry-After."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    await api.call("authenticate")
    world.host.faults.fail_next(3, 429)
    with pytest.raises(RateLimitError) as caught:
        await api.call("get_collections")
    assert caught.value.retry_after == 1.0


async def test_throttled_login(make_api: MakeApi, backpacks: Backpacks, world: World) -> None:
    """A throttled token request (Badgr's expires in the body) is retried, then logs in."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    world.host.faults.fail_next(1, 429)
    assert (await api.call("authenticate")).from_cache is False


async def test_500_is_a_server_error(make_api: MakeApi, backpacks: Backpacks, world: World) -> None:
    """An injected 500 raises ServerError and is not retried."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    await api.call("authenticate")
    world.host.faults.fail_next(1, 500)
    with pytest.raises(ServerError) as caught:
        await api.call("get_collections")
    assert caught.value.status_code == 500
    assert await api.call("get_collections")


async def test_503_on_a_read_is_retried(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """An injected 503 on a GET is retried and the read succeeds."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    await api.call("authenticate")
    world.host.faults.fail_next(2, 503)
    assert (await api.call("get_badges", world.collection_id)).id == world.collection_id


async def test_connection_closed_mid_answer_on_a_read_is_retried(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """A GET whose answer is cut off is retried on a new connection and succeeds."""
    api = make_api(backpacks.v2, backpacks.v2_user, store=backpacks.store)
    await api.call("authenticate")
    world.host.faults.drop_next(1)
    assert await api.call("get_collections")


async def test_connection_closed_mid_answer_on_a_push_is_reported(
    make_api: MakeApi, backpacks: Backpacks, world: World
) -> None:
    """A POST whose answer is cut off is not repeated: TransportError, httpx2 error chained."""
    api = make_api(backpacks.v2, store=backpacks.store)
    await api.call("authenticate")
    world.host.faults.drop_next(1)
    with pytest.raises(TransportError) as caught:
        await api.call("put_issuer", issuer_json("Cut off"))
    assert isinstance(caught.value.__cause__, httpx2.TransportError)
    assert caught.value.action == "issuers"


@pytest.fixture(scope="module")
def slow_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A second host that answers every request 0.5 s late."""
    directory: Path = tmp_path_factory.mktemp("slow-host")
    settings = HostSettings(
        db_url=f"sqlite:///{directory / 'host.sqlite3'}", faults=FaultSettings(latency=0.5)
    )
    with run_host_in_thread(settings) as host:
        host.add_user(EARNER_EMAIL, EARNER_PASSWORD)
        yield host


async def test_timeout(make_api: MakeApi, backpacks: Backpacks, slow_host: RunningHost) -> None:
    """A backpack slower than the read timeout raises RequestTimeoutError (W3, W8)."""
    with backpacks.store.transaction() as tx:
        slow = tx.providers.create(slow_host.api_url, slow_host.base_url + "/web", "2")
        account = tx.accounts.create(slow.id, "alice", EARNER_EMAIL, EARNER_PASSWORD)
    api = make_api(slow, account, store=backpacks.store, timeout=0.1, retry=RetryPolicy.never())
    with pytest.raises(RequestTimeoutError):
        await api.call("authenticate")


def _answering(body: bytes, status: int = 200, content_type: str = "application/json") -> object:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/o/token"):
            token = {"access_token": "A", "refresh_token": "R", "expires_in": 3600}
            return httpx2.Response(200, content=json.dumps(token).encode())
        return httpx2.Response(status, content=body, headers={"content-type": content_type})

    return httpx2.MockTransport(handler)


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        pytest.param(b'{"status": {"success": tr', 200, InvalidResponseError, id="malformed-json"),
        pytest.param(b"", 200, InvalidResponseError, id="empty-body"),
        pytest.param(
            b"<html><body>Sign in</body></html>", 200, InvalidResponseError, id="html-200"
        ),
        pytest.param(
            b"<!DOCTYPE html><html><head><title>Server Error (500)</title></head></html>",
            500,
            ServerError,
            id="html-500",
        ),
    ],
)
async def test_unusable_answers_raise_typed_errors(
    make_api: MakeApi, backpacks: Backpacks, body: bytes, status: int, error: type[Exception]
) -> None:
    """Malformed JSON, an empty body or an HTML page raises a typed error, never a crash (W3)."""
    api = make_api(
        backpacks.v2,
        backpacks.v2_user,
        store=backpacks.store,
        transport=_answering(body, status, "text/html"),
        retry=RetryPolicy.never(),
    )
    with pytest.raises(error):
        await api.call("get_collections")
