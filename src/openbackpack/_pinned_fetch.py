"""Fetching a URL that someone else chose, safely: pinned to the address that was checked.

Only http(s) URLs, connect and read timeouts, a size cap, a few redirects (each one checked
again), and no private, loopback, link-local or otherwise special address unless allowed: a
server that fetches whatever URL a user or a remote host names must not become a way into the
network it runs in. A host name is resolved once, every address it resolves to is checked,
and the connection goes to the checked address, so a name that re-resolves elsewhere (DNS
rebinding) gains nothing.

Used by the reference host's imports (``host/_fetch.py``) and by the pages' badge images
(``web/_images.py``); it imports nothing else of the package, so neither side depends on
the other.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

import httpcore2
import httpx2
from httpcore2 import NetworkStream

from openbackpack._tls import verifying_context

__all__ = ["FetchError", "Fetched", "Fetcher", "Resolver"]

_MAX_REDIRECTS: Final = 5
_ACCEPT: Final = "application/ld+json, application/json;q=0.9, image/png;q=0.8, image/svg+xml;q=0.8"


class FetchError(Exception):
    """The URL could not be fetched; ``reason`` says why (shown in Badgr's error list)."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched document: final URL, status, media type and bytes (or a redirect's target)."""

    url: str
    status: int
    media_type: str
    content: bytes
    location: str = ""


Resolver = Callable[[str, int], list[str]]
"""Resolves a host name and port to IP addresses (injected in tests; DNS by default)."""

_NAT64: Final = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE: Final = ipaddress.ip_network("::/96")


def _dns(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches through: mapped, compatible, NAT64, 6to4, Teredo."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _IPV4_COMPATIBLE or any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            candidates.append(embedded)
    return any(not c.is_global or c.is_multicast for c in candidates)


def _connect_name(url: str) -> str:
    """The host as httpcore hands it to the backend: IDNA-encoded, IPv6 without brackets."""
    try:
        return httpx2.URL(url).raw_host.decode("ascii")
    except (httpx2.InvalidURL, UnicodeDecodeError):
        raise FetchError(f"{url!r} is not a valid URL") from None


class _PinnedBackend(httpcore2.SyncBackend):
    """Connects to the address that was vetted for a host, never to a fresh lookup's.

    TLS still names the host (SNI and certificate check) and the request keeps its Host
    header: only the TCP connection is pinned, which is what defeats DNS rebinding.
    """

    def __init__(self) -> None:
        self.pins: dict[tuple[str, int], str] = {}

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> NetworkStream:
        pinned = self.pins.get((host, port))
        if pinned is None:
            raise httpcore2.ConnectError(f"{host}:{port} was not vetted before connecting")
        return super().connect_tcp(pinned, port, timeout, local_address, socket_options)


class Fetcher:
    """Fetches URLs under the safety rules: checked, pinned, capped.

    Args:
        timeout: seconds for the whole read (connecting: at most 5).
        max_bytes: the size cap of an answer.
        allow_private: fetch loopback, private and other non-public addresses too.
        resolver: resolves a host name (default: DNS); injected in tests.
        accept: the ``Accept`` header sent.
        max_redirects: how many redirects are followed (each checked again).
    """

    def __init__(
        self,
        *,
        timeout: float,
        max_bytes: int,
        allow_private: bool,
        resolver: Resolver | None = None,
        accept: str = _ACCEPT,
        max_redirects: int = _MAX_REDIRECTS,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.resolver: Resolver = resolver or _dns
        self.accept = accept
        self.max_redirects = max_redirects

    def check_url(self, url: str) -> None:
        """Refuse a URL that is not http(s) or that resolves to a refused address."""
        self.vet(url)

    def vet(self, url: str) -> tuple[str, int, str]:
        """Resolve ``url``'s host once and check it: ``(host, port, address to connect to)``.

        Raises:
            FetchError: not http(s), unresolvable, or resolving to a refused address.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"only http and https URLs can be fetched, not {url!r}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            addresses = self.resolver(parts.hostname, port)
        except (OSError, ValueError) as exc:
            raise FetchError(f"cannot resolve {parts.hostname!r}: {exc}") from None
        if not addresses:
            raise FetchError(f"cannot resolve {parts.hostname!r}: no address")
        if not self.allow_private:
            # Every address must pass: a name resolving to one public and one private
            # address would otherwise let a later choice pick the private one.
            for address in addresses:
                if _refused(address):
                    raise FetchError(
                        f"{parts.hostname} resolves to a private or reserved address; refused"
                    )
        return parts.hostname, port, addresses[0]

    def get(self, url: str) -> Fetched:
        """Fetch ``url``, following up to ``max_redirects`` checked redirects.

        Raises:
            FetchError: refused, unreachable, too large, or answered with an error status
                (``status`` is set then; 410 Gone means revoked for hosted badges).
        """
        timeout = httpx2.Timeout(self.timeout, connect=min(self.timeout, 5.0))
        backend = _PinnedBackend()
        # No proxies from the environment: the connection must go to the vetted address.
        transport = httpx2.HTTPTransport(trust_env=False, verify=verifying_context(trust_env=False))
        transport._pool._network_backend = backend  # httpx2 takes no backend argument
        with httpx2.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, transport=transport
        ) as client:
            for _ in range(self.max_redirects + 1):
                _, port, address = self.vet(url)
                backend.pins[(_connect_name(url), port)] = address
                fetched = self._once(client, url)
                if fetched.status in (301, 302, 303, 307, 308):
                    url = urljoin(url, fetched.location)
                    continue
                if fetched.status >= 400:
                    raise FetchError(f"{url} answered HTTP {fetched.status}", status=fetched.status)
                return fetched
        raise FetchError(f"too many redirects from {url}")

    def _once(self, client: httpx2.Client, url: str) -> Fetched:
        try:
            with client.stream("GET", url, headers={"Accept": self.accept}) as response:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    return Fetched(url, response.status_code, "", b"", location)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise FetchError(f"{url} is larger than {self.max_bytes} bytes")
                content = bytearray()
                for chunk in response.iter_bytes():
                    content.extend(chunk)
                    if len(content) > self.max_bytes:
                        raise FetchError(f"{url} is larger than {self.max_bytes} bytes")
                media_type = response.headers.get("content-type", "").split(";")[0].strip()
                return Fetched(str(response.url), response.status_code, media_type, bytes(content))
        except httpx2.HTTPError as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
