"""Redirects over loopback: GETs followed within their origin, nothing else re-sent anywhere."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from openbackpack import RedirectRefusedError
from openbackpack.client import AsyncBackpackClient, BackpackClient, RetryPolicy
from openbackpack.protocols import Body, Endpoint, Shape
from tests.client._servers import Recorder, recording_server, redirect

PROBE = Endpoint("probe", "GET", "/probe", shape=Shape.DOCUMENT)
SEND = Endpoint("send", "POST", "/send", body=Body.JSON, shape=Shape.DOCUMENT)
PASSWORD = "pa55-w0rd-never-elsewhere"
EMAIL = "recipient-secret@example.org"
KINDS = ["sync", "async"]
STATUSES = [301, 302, 303, 307, 308]


def run(
    kind: str, verb: str, *args: Any, call: dict[str, Any] | None = None, **options: Any
) -> Any:
    """Call ``verb(*args, **call)`` on a fresh sync or async client built with ``options``."""
    options.setdefault("retry", RetryPolicy.never())
    if kind == "sync":
        with BackpackClient(**options) as client:
            return getattr(client, verb)(*args, **(call or {}))

    async def go() -> Any:
        async with AsyncBackpackClient(**options) as client:
            return await getattr(client, verb)(*args, **(call or {}))

    return asyncio.run(go())


@dataclass
class Origins:
    """Two loopback servers: ``url`` answers redirects, ``other_url`` is another origin."""

    url: str
    first: Recorder
    other_url: str
    other: Recorder


def _routes(other_url: str) -> dict[str, Any]:
    routes: dict[str, Any] = {
        "/v2/probe": redirect(302, other_url + "/v2/probe"),
        "/v2/hop": redirect(302, "/v2/hop2"),
        "/v2/hop2": redirect(302, "/v2/landing"),
        "/v2/loop": redirect(302, "/v2/loop"),
        "/v2/local-send": redirect(301, "/v2/landing"),
    }
    for status in STATUSES:
        routes[f"/{status}/o/token"] = redirect(status, other_url + "/o/token")
        routes[f"/{status}/v2/send"] = redirect(status, other_url + "/v2/send")
    return routes


@pytest.fixture(scope="module")
def servers() -> Iterator[Origins]:
    """The two servers, started once for the module."""
    with (
        recording_server() as (other_url, other),
        recording_server(_routes(other_url)) as (
            url,
            first,
        ),
    ):
        yield Origins(url, first, other_url, other)


@pytest.fixture
def origins(servers: Origins) -> Origins:
    """The two servers, their records emptied."""
    servers.first.seen.clear()
    servers.other.seen.clear()
    return servers


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", STATUSES)
def test_password_grant_is_never_redirected(kind: str, status: int, origins: Origins) -> None:
    """A redirected token request raises RedirectRefusedError; the password goes nowhere else."""
    with pytest.raises(RedirectRefusedError) as caught:
        run(kind, "password_grant", f"{origins.url}/{status}/v2", EMAIL, PASSWORD)
    assert caught.value.status_code == status
    assert caught.value.location == origins.other_url + "/o/token"
    assert caught.value.url == f"{origins.url}/{status}/o/token"
    assert str(status) in str(caught.value)
    assert origins.other_url in str(caught.value)
    assert PASSWORD.encode() in origins.first.raw()
    assert origins.other.seen == []
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", STATUSES)
def test_post_body_is_never_redirected(kind: str, status: int, origins: Origins) -> None:
    """A redirected POST raises RedirectRefusedError; its JSON body never reaches the target."""
    with pytest.raises(RedirectRefusedError, match="POST is never redirected"):
        run(kind, "fetch", SEND, f"{origins.url}/{status}/v2", call={"data": {"to": EMAIL}})
    assert [s.body for s in origins.first.seen] == [f'{{"to":"{EMAIL}"}}'.encode()]
    assert origins.other.seen == []


@pytest.mark.parametrize("kind", KINDS)
def test_same_origin_post_redirect_is_refused(kind: str, origins: Origins) -> None:
    """A 301 answer to a POST is refused even within its origin: the body is not dropped."""
    local = Endpoint("send", "POST", "/local-send", body=Body.JSON, shape=Shape.DOCUMENT)
    with pytest.raises(RedirectRefusedError) as caught:
        run(kind, "fetch", local, origins.url + "/v2", call={"data": {"to": EMAIL}})
    assert caught.value.location == origins.url + "/v2/landing"
    assert [s.path for s in origins.first.seen] == ["/v2/local-send"]


@pytest.mark.parametrize("kind", KINDS)
def test_cross_origin_get_redirect_is_refused(kind: str, origins: Origins) -> None:
    """A GET redirected to another origin is refused; nothing, the token included, goes there."""
    with pytest.raises(RedirectRefusedError, match="another origin"):
        run(kind, "fetch", PROBE, origins.url + "/v2", call={"token": "tok-secret"})
    assert origins.other.seen == []


@pytest.mark.parametrize("kind", KINDS)
def test_allowed_origin_get_redirect_drops_token(kind: str, origins: Origins) -> None:
    """A GET may follow to an origin the client allows, without its Authorization header."""
    answer = run(
        kind,
        "fetch",
        PROBE,
        origins.url + "/v2",
        call={"token": "tok-secret"},
        redirect_origins=[origins.other_url],
    )
    assert answer.json() == {"ok": True}
    assert [s.path for s in origins.other.seen] == ["/v2/probe"]
    assert "authorization" not in origins.other.seen[0].headers


@pytest.mark.parametrize("kind", KINDS)
def test_same_origin_get_redirects_are_followed(kind: str, origins: Origins) -> None:
    """GET redirects within the origin are followed, with the token, to the final answer."""
    hop = Endpoint("hop", "GET", "/hop", shape=Shape.DOCUMENT)
    answer = run(kind, "fetch", hop, origins.url + "/v2", call={"token": "t"})
    assert answer.json() == {"ok": True}
    assert [s.path for s in origins.first.seen] == ["/v2/hop", "/v2/hop2", "/v2/landing"]
    assert all(s.headers.get("authorization") == "Bearer t" for s in origins.first.seen)


@pytest.mark.parametrize("kind", KINDS)
def test_redirect_loop_ends(kind: str, origins: Origins) -> None:
    """A redirect loop ends with RedirectRefusedError after a bounded number of hops."""
    loop = Endpoint("loop", "GET", "/loop", shape=Shape.DOCUMENT)
    with pytest.raises(RedirectRefusedError, match="too many redirects"):
        run(kind, "fetch", loop, origins.url + "/v2")
    assert len(origins.first.seen) == 6
