"""Streaming Badgr's paged lists: iter_pages and iter_items, scripted and against the host."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from openbackpack import InvalidResponseError, NotFoundError
from openbackpack.client import AsyncBackpackClient, BackpackClient
from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.protocols import badgr
from tests.client.conftest import MakeClient, Script, envelope, respond

pytestmark = pytest.mark.anyio

API = "http://127.0.0.1:8123/v2"
AWARDS = badgr.route("badgeclass.assertions.list")
PARAMS = {"badgeclass": "B1"}


def page(*ids: str, next_url: str | None = None) -> httpx2.Response:
    """One page of awards, with a Link to the next page when given."""
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    return respond(200, envelope(*({"entityId": i} for i in ids)), headers)


async def collect(client: Any, verb: str, **options: Any) -> list[Any]:
    """Everything an iter_* verb yields, sync or async."""
    iterator = getattr(client.client, verb)(AWARDS, API, params=PARAMS, token="AT", **options)
    if client.kind == "async":
        return [item async for item in iterator]
    return list(iterator)


async def test_iter_items_follows_next_links_until_the_last_page(make_client: MakeClient) -> None:
    """The first request asks for num; each next one is the Link URL, token and all."""
    script = Script(
        page("a", "b", next_url=f"{API}/badgeclasses/B1/assertions?cursor=c1&num=2"),
        page("c", "d", next_url=f"{API}/badgeclasses/B1/assertions?cursor=c2&num=2"),
        page("e"),
    )
    items = await collect(make_client(script), "iter_items", page_size=2)
    assert [item["entityId"] for item in items] == ["a", "b", "c", "d", "e"]
    first, second, third = script.requests
    assert parse_qs(urlsplit(str(first.url)).query) == {"num": ["2"]}
    assert str(second.url).endswith("?cursor=c1&num=2")
    assert str(third.url).endswith("?cursor=c2&num=2")
    assert all(r.headers["authorization"] == "Bearer AT" for r in script.requests)


async def test_iter_pages_yields_each_answer(make_client: MakeClient) -> None:
    """iter_pages gives the raw answers, headers included; the default page size is 500."""
    script = Script(page("a", next_url=f"{API}/next"), page("b"))
    pages = await collect(make_client(script), "iter_pages")
    assert [p.json()["result"][0]["entityId"] for p in pages] == ["a", "b"]
    assert "link" in pages[0].headers
    assert parse_qs(urlsplit(str(script.requests[0].url)).query)["num"] == ["500"]


async def test_a_link_to_another_origin_is_refused(make_client: MakeClient) -> None:
    """The token is never sent to an origin the first request did not go to."""
    script = Script(page("a", next_url="http://attacker.example/v2/steal"))
    with pytest.raises(InvalidResponseError, match="another origin"):
        await collect(make_client(script), "iter_items")
    assert len(script.requests) == 1


async def test_a_link_to_the_same_page_is_refused(make_client: MakeClient) -> None:
    """A next link that repeats the page would loop forever; it is an invalid response."""
    same = f"{API}/badgeclasses/B1/assertions?num=500"
    with pytest.raises(InvalidResponseError, match="same page"):
        await collect(make_client(Script(page("a", next_url=same))), "iter_items")


async def test_a_failing_page_raises_its_error(make_client: MakeClient) -> None:
    """An error status on a later page raises the typed error after the earlier items."""
    script = Script(page("a", next_url=f"{API}/next"), respond(404, {}))
    with pytest.raises(NotFoundError):
        await collect(make_client(script), "iter_items")


async def test_a_page_without_a_result_list_is_invalid(make_client: MakeClient) -> None:
    """A success whose body is not an envelope cannot be read as a page."""
    with pytest.raises(InvalidResponseError, match="result list"):
        await collect(make_client(Script(respond(200, {"result": "x"}))), "iter_items")


@pytest.mark.parametrize(
    ("endpoint", "size"),
    [
        pytest.param(badgr.route("backpack.assertions.list"), 10, id="not-paged"),
        pytest.param(AWARDS, 0, id="too-small"),
        pytest.param(AWARDS, 501, id="too-large"),
    ],
)
def test_bad_paging_requests_fail_before_any_io(endpoint: Any, size: int) -> None:
    """A list Badgr does not page, or a page size outside 1-500, is a ValueError."""
    script = Script(page("a"))
    with (
        BackpackClient(transport=httpx2.MockTransport(script)) as client,
        pytest.raises(ValueError, match=r"paged list|page_size"),
    ):
        next(client.iter_items(endpoint, API, params=PARAMS, page_size=size))
    assert script.requests == []


@pytest.fixture(scope="module")
def awarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHost, str, str]]:
    """A host with seven awards of one badge class: (host, token, badge class id)."""
    directory = tmp_path_factory.mktemp("paging")
    settings = HostSettings(db_url=f"sqlite:///{directory / 'h.sqlite3'}", login_backoff_max=0)
    with run_host_in_thread(settings) as host, BackpackClient() as client:
        host.add_user("pager@example.org", "pw")
        token = client.password_grant(host.api_url, "pager@example.org", "pw").access_token
        issuer = client.fetch(
            badgr.route("issuers.create"),
            host.api_url,
            data={"name": "Pager", "email": "pager@example.org", "url": "https://p.example"},
            token=token,
        ).json()["result"][0]["entityId"]
        badge = client.fetch(
            badgr.route("issuer.badgeclasses.create"),
            host.api_url,
            params={"issuer": issuer},
            data={"name": "Paged", "description": "d", "image": _PNG, "criteriaNarrative": "x"},
            token=token,
        ).json()["result"][0]["entityId"]
        for n in range(7):
            client.fetch(
                AWARDS_CREATE,
                host.api_url,
                params={"badgeclass": badge},
                data={"recipient": {"identity": f"e{n}@example.org", "type": "email"}},
                token=token,
            )
        yield host, token, badge


AWARDS_CREATE = badgr.route("badgeclass.assertions.create")
_PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChw"
    "GA60e6kgAAAABJRU5ErkJggg=="
)


def _recipients(items: list[Any]) -> list[str]:
    return [item["recipient"]["plaintextIdentity"] for item in items]


def test_sync_client_streams_every_award_of_the_host_once(
    awarded: tuple[RunningHost, str, str],
) -> None:
    """Pages of three walk the host's seven awards newest first, each exactly once."""
    host, token, badge = awarded
    with BackpackClient() as client:
        pages = list(
            client.iter_pages(
                AWARDS, host.api_url, params={"badgeclass": badge}, token=token, page_size=3
            )
        )
        items = list(
            client.iter_items(
                AWARDS, host.api_url, params={"badgeclass": badge}, token=token, page_size=3
            )
        )
    assert [len(p.json()["result"]) for p in pages] == [3, 3, 1]
    assert _recipients(items) == [f"e{n}@example.org" for n in reversed(range(7))]


async def test_async_client_streams_every_award_of_the_host_once(
    awarded: tuple[RunningHost, str, str],
) -> None:
    """The async client walks the same pages to the same items."""
    host, token, badge = awarded
    async with AsyncBackpackClient() as client:
        items = [
            item
            async for item in client.iter_items(
                AWARDS, host.api_url, params={"badgeclass": badge}, token=token, page_size=2
            )
        ]
    assert _recipients(items) == [f"e{n}@example.org" for n in reversed(range(7))]
