"""The two clients behind one awaitable facade, and scripted MockTransport handlers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import pytest

from openbackpack.client import AsyncBackpackClient, BackpackClient, RetryPolicy

Step = httpx2.Response | Exception | Callable[[httpx2.Request], httpx2.Response]

FAST = RetryPolicy(
    attempts=3, initial_delay=0.001, max_delay=0.002, max_retry_after=5.0, wait_scale=0.001
)
"""Real retries, real (tiny) waits."""


def respond(
    status: int = 200, body: Any = None, headers: dict[str, str] | None = None
) -> httpx2.Response:
    """A response; ``body`` is JSON-encoded unless it is bytes."""
    content = (
        body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    )
    return httpx2.Response(status, headers=headers, content=content)


def envelope(*items: dict[str, Any]) -> dict[str, Any]:
    """Badgr's success envelope."""
    return {"status": {"success": True, "description": "ok"}, "result": list(items)}


class Script:
    """A handler that answers from a list of steps (the last one repeats) and records requests."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx2.Response):
            return step
        return step(request)


class Either:
    """A BackpackClient or an AsyncBackpackClient; every verb is awaited either way."""

    def __init__(
        self, kind: str, handler: Callable[[httpx2.Request], httpx2.Response], **options: Any
    ) -> None:
        self.kind = kind
        transport = httpx2.MockTransport(handler)
        options.setdefault("retry", FAST)
        self.client: BackpackClient | AsyncBackpackClient = (
            BackpackClient(transport=transport, **options)
            if kind == "sync"
            else AsyncBackpackClient(transport=transport, **options)
        )

    async def call(self, verb: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, verb)(*args, **kwargs)
        return await result if self.kind == "async" else result

    async def close(self) -> None:
        if isinstance(self.client, AsyncBackpackClient):
            await self.client.aclose()
        else:
            self.client.close()


MakeClient = Callable[..., Either]


@pytest.fixture(params=["sync", "async"])
async def make_client(request: pytest.FixtureRequest) -> AsyncIterator[MakeClient]:
    """A factory of clients of one kind (the test runs once per kind) closed afterwards."""
    made: list[Either] = []

    def make(handler: Callable[[httpx2.Request], httpx2.Response], **options: Any) -> Either:
        made.append(Either(request.param, handler, **options))
        return made[-1]

    yield make
    for client in made:
        await client.close()
