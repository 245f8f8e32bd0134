"""Fetching hosted Open Badges documents for an import, safely.

Only http(s) URLs, connect and read timeouts, a size cap, at most five redirects (each one
checked again), and no private, loopback, link-local or otherwise special address unless the
host was started with ``allow_private_fetch``: a backpack that fetches whatever URL a user
posts must not become a way into the network it runs in.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Final
from urllib.parse import urljoin, urlsplit

import httpx2

__all__ = ["FetchError", "Fetched", "Fetcher"]

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


def _refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


class Fetcher:
    """Fetches URLs for imports under the host's safety rules."""

    def __init__(self, *, timeout: float, max_bytes: int, allow_private: bool) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.allow_private = allow_private

    def check_url(self, url: str) -> None:
        """Refuse a URL that is not http(s) or that resolves to a refused address."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"only http and https URLs can be fetched, not {url!r}")
        if self.allow_private:
            return
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
        except (OSError, ValueError) as exc:
            raise FetchError(f"cannot resolve {parts.hostname!r}: {exc}") from None
        # Every address must pass: a name resolving to one public and one private address
        # would otherwise let the connection pick the private one.
        for info in infos:
            if _refused(str(info[4][0])):
                raise FetchError(
                    f"{parts.hostname} resolves to a private or reserved address; refused"
                )

    def get(self, url: str) -> Fetched:
        """Fetch ``url``, following up to five checked redirects.

        Raises:
            FetchError: refused, unreachable, too large, or answered with an error status
                (``status`` is set then; 410 Gone means revoked for hosted badges).
        """
        timeout = httpx2.Timeout(self.timeout, connect=min(self.timeout, 5.0))
        with httpx2.Client(timeout=timeout, follow_redirects=False) as client:
            for _ in range(_MAX_REDIRECTS + 1):
                self.check_url(url)
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
            with client.stream("GET", url, headers={"Accept": _ACCEPT}) as response:
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
