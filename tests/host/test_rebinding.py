"""SSRF: embedded private IPv4 addresses are refused, and the vetted address is connected to.

A name that re-resolves elsewhere after the check (DNS rebinding) therefore gains nothing.

The fetcher's resolver is injected, so the tests control what a name resolves to and how
often it is asked, instead of relying on real DNS.
"""

from __future__ import annotations

import pytest

from openbackpack.host._fetch import Fetcher, FetchError
from tests.host.conftest import Documents


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1",  # IPv4-compatible
        "::a00:1",  # IPv4-compatible 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::a00:1",  # local-use NAT64 of 10.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:c0a8:1::1",  # 6to4 of 192.168.0.1
        "::ffff:10.0.0.1",  # IPv4-mapped
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    ],
)
def test_ipv6_addresses_embedding_a_private_ipv4_are_refused(address: str) -> None:
    """An IPv6 address embedding a private or loopback IPv4 is refused, literal or resolved."""
    fetcher = Fetcher(timeout=1, max_bytes=100, allow_private=False)
    with pytest.raises(FetchError, match="private"):
        fetcher.check_url(f"http://[{address}]/a")
    resolving = Fetcher(
        timeout=1, max_bytes=100, allow_private=False, resolver=lambda _h, _p: [address]
    )
    with pytest.raises(FetchError, match="private"):
        resolving.check_url("http://badges.example.test/a")


class Rebinding:
    """A resolver answering ``first`` once, then ``later`` for ever; it counts the calls."""

    def __init__(self, first: str, later: str) -> None:
        self.first, self.later, self.calls = first, later, 0

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return [self.first if self.calls == 1 else self.later]


def test_the_connection_goes_to_the_address_that_was_resolved_once(documents: Documents) -> None:
    """A name is resolved once and fetched from that address, whatever later lookups say."""
    port = documents.base_url.rsplit(":", 1)[1]
    documents.put("/pinned", {"ok": True})
    resolver = Rebinding("127.0.0.1", "127.0.0.2")
    fetcher = Fetcher(timeout=2, max_bytes=1024, allow_private=True, resolver=resolver)
    fetched = fetcher.get(f"http://badges.rebind.test:{port}/pinned")
    assert fetched.content == b'{"ok": true}'
    assert resolver.calls == 1


def test_rebinding_to_loopback_after_the_check_does_not_reach_loopback(
    documents: Documents,
) -> None:
    """A name vetted as public that re-resolves to loopback is never fetched from loopback."""
    port = documents.base_url.rsplit(":", 1)[1]
    documents.put("/secret", {"secret": True})
    # A public address on the documents server's port: nothing answers there in a test.
    resolver = Rebinding("93.184.216.34", "127.0.0.1")
    fetcher = Fetcher(timeout=0.3, max_bytes=1024, allow_private=False, resolver=resolver)
    with pytest.raises(FetchError) as refused:
        fetcher.get(f"http://badges.rebind.test:{port}/secret")
    assert "ConnectError" in refused.value.reason or "Timeout" in refused.value.reason
    assert resolver.calls == 1
