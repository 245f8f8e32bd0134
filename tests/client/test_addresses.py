"""The client's address guard: announced URLs on private hosts or odd ports are refused."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest

from openbackpack import BlockedAddressError, ConfigurationError
from openbackpack.client import AddressPolicy, AsyncBackpackClient, BackpackClient, RetryPolicy
from openbackpack.client._addresses import embedded_ipv4, is_public
from openbackpack.protocols import Endpoint, Shape
from tests.client._servers import Recorder, recording_server

DOC = Endpoint("doc", "GET", "/doc", auth=False, shape=Shape.DOCUMENT)
KINDS = ["sync", "async"]


def send_to(kind: str, url: str, *, announced: bool = True, **options: Any) -> Any:
    """Send a GET of ``url`` (announced by a host, or not) with a fresh client of ``kind``."""
    options.setdefault("retry", RetryPolicy.never())
    if kind == "sync":
        with BackpackClient(**options) as client:
            return client.send(client.outgoing_to(DOC, url, announced=announced))

    async def go() -> Any:
        async with AsyncBackpackClient(**options) as client:
            return await client.send(client.outgoing_to(DOC, url, announced=announced))

    return asyncio.run(go())


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Recorder]]:
    """A loopback server recording what reaches it."""
    with recording_server() as served:
        yield served


@pytest.fixture
def loopback(server: tuple[str, Recorder]) -> tuple[str, Recorder]:
    """The loopback server, its record emptied."""
    server[1].seen.clear()
    return server


@pytest.mark.parametrize("kind", KINDS)
def test_announced_loopback_url_is_refused_by_default(
    kind: str, loopback: tuple[str, Recorder]
) -> None:
    """A URL a host announced on 127.0.0.1 is refused before any byte is sent."""
    url, seen = loopback
    with pytest.raises(BlockedAddressError) as caught:
        send_to(kind, url + "/o/register")
    assert caught.value.url == url + "/o/register"
    assert "not allowed" in caught.value.reason  # the loopback server's port is not 80/443
    assert str(caught.value).startswith("could not do doc: refused to call " + url)
    assert seen.seen == []


@pytest.mark.parametrize("kind", KINDS)
def test_announced_loopback_address_is_refused_on_an_allowed_port(
    kind: str, loopback: tuple[str, Recorder]
) -> None:
    """With every port allowed, the loopback address itself is still refused."""
    url, seen = loopback
    policy = AddressPolicy(allowed_ports=None)
    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1 is not a public address"):
        send_to(kind, url + "/token", announced_addresses=policy)
    assert seen.seen == []


@pytest.mark.parametrize("kind", KINDS)
def test_names_are_resolved_and_checked(kind: str, loopback: tuple[str, Recorder]) -> None:
    """A host name that resolves to loopback (localhost) is refused like the address."""
    url, seen = loopback
    port = url.rsplit(":", 1)[1]
    policy = AddressPolicy(allowed_ports=None)
    with pytest.raises(BlockedAddressError, match="is not a public address"):
        send_to(kind, f"http://localhost:{port}/token", announced_addresses=policy)
    assert seen.seen == []


@pytest.mark.parametrize("kind", KINDS)
def test_loopback_allowed_explicitly_is_called(kind: str, loopback: tuple[str, Recorder]) -> None:
    """AddressPolicy.allowing_loopback() lets announced loopback URLs through."""
    url, seen = loopback
    answer = send_to(kind, url + "/doc", announced_addresses=AddressPolicy.allowing_loopback())
    assert answer.status_code == 200
    assert [s.path for s in seen.seen] == ["/doc"]


@pytest.mark.parametrize("kind", KINDS)
def test_environment_allows_hosts_and_ports(
    kind: str, loopback: tuple[str, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    """$OPENBACKPACK_ALLOWED_HOSTS and _PORTS widen the default policy."""
    url, seen = loopback
    monkeypatch.setenv("OPENBACKPACK_ALLOWED_HOSTS", "127.0.0.1")
    monkeypatch.setenv("OPENBACKPACK_ALLOWED_PORTS", url.rsplit(":", 1)[1])
    assert send_to(kind, url + "/doc").status_code == 200
    assert len(seen.seen) == 1


def test_environment_with_a_bad_port_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A port list that is not numbers raises ConfigurationError when a client is made."""
    monkeypatch.setenv("OPENBACKPACK_ALLOWED_PORTS", "http")
    with pytest.raises(ConfigurationError, match="OPENBACKPACK_ALLOWED_PORTS"):
        BackpackClient()


@pytest.mark.parametrize("kind", KINDS)
def test_provider_urls_are_checked_when_the_admin_asks(
    kind: str, loopback: tuple[str, Recorder]
) -> None:
    """Admin-entered URLs are called as given, unless provider_addresses sets a policy."""
    url, seen = loopback
    assert send_to(kind, url + "/doc", announced=False).status_code == 200
    with pytest.raises(BlockedAddressError):
        send_to(kind, url + "/doc", announced=False, provider_addresses=AddressPolicy())
    assert len(seen.seen) == 1


EMBEDDED = [
    "::ffff:127.0.0.1",  # v4-mapped
    "::127.0.0.1",  # v4-compatible
    "64:ff9b::7f00:1",  # NAT64
    "2002:7f00:1::",  # 6to4
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "::ffff:169.254.169.254",  # cloud metadata, mapped
]


@pytest.mark.parametrize("literal", EMBEDDED)
@pytest.mark.parametrize("kind", KINDS)
def test_ipv4_embedded_in_ipv6_is_checked(kind: str, literal: str) -> None:
    """IPv6 forms that carry a private IPv4 address are refused, before any connection."""
    policy = AddressPolicy(allowed_ports=None)
    with pytest.raises(BlockedAddressError, match="is not a public address"):
        send_to(kind, f"http://[{literal}]:8080/token", announced_addresses=policy)


def test_embedded_ipv4_forms() -> None:
    """embedded_ipv4 finds the IPv4 address of each embedding, and is_public judges it."""
    assert [str(embedded_ipv4(ipaddress.IPv6Address(a))) for a in EMBEDDED[:4]] == ["127.0.0.1"] * 4
    assert not any(is_public(ipaddress.ip_address(a)) for a in EMBEDDED)
    assert is_public(ipaddress.ip_address("64:ff9b::808:808"))  # NAT64 of 8.8.8.8
    assert is_public(ipaddress.ip_address("2606:4700::1111"))
    assert not is_public(ipaddress.ip_address("100.64.0.1"))  # carrier-grade NAT


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/token", "10.0.0.1 is not a public address"),
        ("http://192.168.1.1/token", "192.168.1.1 is not a public address"),
        ("http://[fe80::1]/token", "fe80::1 is not a public address"),
        ("http://0.0.0.0/token", "0.0.0.0 is not a public address"),
        ("http://203.0.113.9:8443/token", "port 8443 is not allowed (only 80, 443)"),
        ("http://127.1/token", "127.0.0.1 is not a public address"),
        ("http://2130706433/token", "127.0.0.1 is not a public address"),
        ("http://0x7f000001/token", "127.0.0.1 is not a public address"),
    ],
)
def test_private_literals_and_ports_are_refused(url: str, reason: str) -> None:
    """Private, link-local, unspecified and odd-form loopback hosts and other ports are refused."""
    with pytest.raises(BlockedAddressError) as caught:
        send_to("sync", url)
    assert caught.value.reason == reason
    assert url in str(caught.value)
