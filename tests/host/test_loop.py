"""Local handlers run on the event loop; handlers that wait on the network stay off it."""

from __future__ import annotations

import inspect
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import pytest

from openbackpack.host import RunningHost
from openbackpack.host._loop import is_on_loop, loop_dependency, on_loop, served_callable
from openbackpack.host._registry import BADGECONNECT, BADGR, OB3API
from tests.host._helpers import Account, award
from tests.host.conftest import Documents

TABLES = {"badgr": BADGR, "badgeconnect": BADGECONNECT, "ob3": OB3API}

# Each of these fetches, or hashes a password, or handles images: on the loop, it would
# stall every other connection while it waits.
OFF_THE_LOOP = [
    ("badgr", "backpack.import"),
    ("badgr", "token"),
    ("badgr", "issuers.create"),
    ("badgr", "badgeclasses.create"),
    ("badgr", "public.assertions.image"),
    ("badgeconnect", "assertions.create"),
    ("badgeconnect", "authorize.submit"),
    ("ob3", "credentials.upsert"),
    ("ob3", "token"),
]


@pytest.mark.parametrize(("table", "name"), OFF_THE_LOOP)
def test_handlers_that_wait_on_the_network_or_hash_passwords_stay_in_threads(
    table: str, name: str
) -> None:
    """Fetching, password-hashing and image-handling endpoints are served in worker threads."""
    assert not is_on_loop(TABLES[table][name])


def test_the_push_and_read_routes_run_on_the_loop() -> None:
    """Creating, reading and listing assertions and listing credentials skip the thread hop."""
    assert is_on_loop(BADGR["badgeclass.assertions.create"])
    assert is_on_loop(BADGR["assertions.get"])
    assert is_on_loop(BADGR["backpack.assertions.list"])
    assert is_on_loop(BADGECONNECT["assertions.list"])
    assert is_on_loop(OB3API["credentials.list"])


def test_a_marked_handler_is_served_as_a_coroutine_with_its_signature() -> None:
    """The awaitable twin keeps the handler's parameters (annotations resolved), name and doc."""

    @on_loop
    def handler(entity: str, count: int = 2) -> str:
        """Repeat an id."""
        return entity * count

    served = served_callable(handler)
    assert inspect.iscoroutinefunction(served)
    assert inspect.signature(served) == inspect.signature(handler, eval_str=True)
    assert (served.__name__, served.__doc__) == ("handler", "Repeat an id.")


def test_an_unmarked_handler_is_served_as_it_is() -> None:
    """A plain handler without the mark is registered unchanged, so FastAPI runs it in a thread."""

    def handler() -> int:
        return 1

    assert served_callable(handler) is handler
    assert not is_on_loop(handler)


@pytest.mark.anyio
async def test_the_twin_returns_what_the_function_returns_and_raises_what_it_raises() -> None:
    """A dependency on the loop answers, and fails, exactly as the plain function does."""

    def check(value: int) -> int:
        if value < 0:
            raise ValueError("negative")
        return value + 1

    twin = loop_dependency(check)
    assert await twin(1) == 2
    with pytest.raises(ValueError, match="negative"):
        await twin(-1)


def test_requests_are_answered_while_an_import_waits_on_a_slow_issuer(
    host: RunningHost, account: Account, badgeclass: Any, documents: Documents
) -> None:
    """An import waiting three seconds on its fetch holds up no token check, create or read."""
    path = f"/slow/{uuid.uuid4().hex}"
    url = documents.put(path, {"id": "x"}, delay=3.0)
    with (
        httpx2.Client(timeout=30) as importer,
        httpx2.Client(timeout=30) as reader,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        importing = pool.submit(
            importer.post,
            f"{host.api_url}/backpack/import",
            json={"url": url},
            headers=account.headers,
        )
        deadline = time.monotonic() + 10
        while documents.hits[path] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert documents.hits[path] == 1, "the import never fetched"
        created = award(reader, host, account, badgeclass, account.email)
        got = reader.get(
            f"{host.api_url}/assertions/{created['entityId']}", headers=account.headers
        )
        listed = reader.get(f"{host.api_url}/backpack/assertions", headers=account.headers)
        # All three were answered while the import still waited on its fetch.
        assert not importing.done()
        assert (got.status_code, listed.status_code) == (200, 200)
        answer = importing.result(timeout=30)
    assert answer.status_code == 400  # the slow document is no assertion
