"""Which hosts and ports a client may call: Moodle's curl security helper, for the client.

Moodle's curl refuses private hosts and ports other than 80 and 443 for every backpack call
unless the admin allows them. Here the check is on by default for URLs a remote host
announced (a Badge Connect manifest's token, registration, revocation and API URLs), and
optional for the provider URLs an admin typed in. A name is resolved and every address it
resolves to is checked, IPv4 embedded in IPv6 included.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from openbackpack._exceptions import BlockedAddressError, ConfigurationError
from openbackpack.protocols import action_words

__all__ = [
    "HOSTS_ENV",
    "PORTS_ENV",
    "AddressPolicy",
    "IPAddress",
    "addresses_of",
    "embedded_ipv4",
    "for_action",
    "is_public",
    "resolve",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
"""An IPv4 or IPv6 address."""

HOSTS_ENV: Final = "OPENBACKPACK_ALLOWED_HOSTS"
"""Environment variable: hosts, addresses and networks a client may call although private."""

PORTS_ENV: Final = "OPENBACKPACK_ALLOWED_PORTS"
"""Environment variable: the ports a client may call on announced URLs (``*`` for any)."""

_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_V4_COMPATIBLE: Final = ipaddress.IPv6Network("::/96")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries: v4-mapped, v4-compatible, NAT64 or 6to4."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _V4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Whether an address is globally routable, and so is any IPv4 address it embeds."""
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
    return True


# Asked for every request a client sends: what a policy's allowed hosts parse to is kept
# rather than parsed again each time (frozenset() of a frozen set is that same set).
@functools.lru_cache(maxsize=64)
def _names(entries: frozenset[str]) -> frozenset[str]:
    return frozenset(entry.lower() for entry in entries)


@functools.lru_cache(maxsize=64)
def _networks(entries: frozenset[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            continue
    return tuple(networks)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which hosts and ports a client may connect to.

    Attributes:
        allow_private: connect to loopback, private, link-local and other non-public
            addresses too.
        allowed_hosts: host names (exact, case-insensitive), addresses or networks
            (``127.0.0.0/8``) allowed even though they are not public.
        allowed_ports: the ports allowed; None allows every port. A URL without a port
            uses its scheme's (80 or 443).
    """

    allow_private: bool = False
    allowed_hosts: frozenset[str] = field(default=frozenset())
    allowed_ports: frozenset[int] | None = field(default=frozenset({80, 443}))

    @classmethod
    def from_environment(cls) -> AddressPolicy:
        """The default policy, widened by ``$OPENBACKPACK_ALLOWED_HOSTS`` and ``_PORTS``.

        ``OPENBACKPACK_ALLOWED_HOSTS`` is a comma-separated list of host names, addresses
        and networks allowed although not public (``*`` allows every host);
        ``OPENBACKPACK_ALLOWED_PORTS`` a comma-separated list of ports (``*`` for any;
        default ``80,443``).

        Raises:
            ConfigurationError: a port that is not a number.
        """
        hosts = [h.strip() for h in os.environ.get(HOSTS_ENV, "").split(",") if h.strip()]
        ports_text = os.environ.get(PORTS_ENV, "").strip()
        ports: frozenset[int] | None = frozenset({80, 443})
        if ports_text == "*":
            ports = None
        elif ports_text:
            try:
                ports = frozenset(int(p) for p in ports_text.split(",") if p.strip())
            except ValueError:
                raise ConfigurationError(
                    f"{PORTS_ENV} must be '*' or comma-separated port numbers"
                ) from None
        return cls(allow_private="*" in hosts, allowed_hosts=frozenset(hosts), allowed_ports=ports)

    @classmethod
    def allow_all(cls) -> AddressPolicy:
        """A policy that refuses nothing."""
        return cls(allow_private=True, allowed_ports=None)

    @classmethod
    def allowing_loopback(cls) -> AddressPolicy:
        """Public hosts plus this machine, on any port: what demos and tests use."""
        return cls(allowed_hosts=frozenset({"localhost", "127.0.0.0/8", "::1"}), allowed_ports=None)

    def check_url(self, url: str) -> tuple[str, int] | None:
        """Check what the URL alone tells; return the host and port still to resolve.

        None means no resolution is needed (private addresses are allowed, or the host is
        allowed by name or is an address already judged).

        Raises:
            BlockedAddressError: the port is not allowed, or the host is a non-public
                address literal that is not allowed.
        """
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        try:
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
        except ValueError:
            raise _blocked(url, "the port is not a number") from None
        if self.allowed_ports is not None and port not in self.allowed_ports:
            allowed = ", ".join(str(p) for p in sorted(self.allowed_ports))
            raise _blocked(url, f"port {port} is not allowed (only {allowed})")
        if self.allow_private or host in _names(frozenset(self.allowed_hosts)):
            return None
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            return host, port
        self.check_addresses(url, [literal])
        return None

    def check_addresses(self, url: str, addresses: Iterable[IPAddress]) -> None:
        """Refuse the URL if any address its host resolves to is not public nor allowed.

        Raises:
            BlockedAddressError: naming the URL and the address.
        """
        allowed = _networks(frozenset(self.allowed_hosts))
        for address in addresses:
            if is_public(address) or any(address in network for network in allowed):
                continue
            if isinstance(address, ipaddress.IPv6Address):
                inner = embedded_ipv4(address)
                if inner is not None and any(inner in network for network in allowed):
                    continue
            raise _blocked(url, f"{address} is not a public address")

    def check(self, url: str) -> None:
        """Check a URL, resolving its host name (blocking) when it must.

        Raises:
            BlockedAddressError: the URL may not be called.
        """
        pending = self.check_url(url)
        if pending is not None:
            self.check_addresses(url, resolve(*pending))


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (blocking); none when it does not resolve.

    A name that does not resolve is no address to refuse: the connection then fails with
    the transport's own error, as it would have.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return addresses_of(infos)


def addresses_of(infos: Iterable[tuple[object, ...]]) -> list[IPAddress]:
    """The addresses of ``getaddrinfo`` results (scope ids dropped)."""
    found: list[IPAddress] = []
    for info in infos:
        sockaddr = info[4]
        assert isinstance(sockaddr, tuple)
        found.append(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
    return found


def _blocked(url: str, reason: str) -> BlockedAddressError:
    # The client fills in the action when it passes the error on (see ``for_action``).
    message = f"refused to call {url}: {reason}"
    return BlockedAddressError(message, url=url, reason=reason, action=None)


def for_action(error: BlockedAddressError, action: str) -> BlockedAddressError:
    """The same refusal, its message and ``action`` naming the action that was attempted."""
    return BlockedAddressError(
        f"could not {action_words(action)}: {error}",
        url=error.url,
        reason=error.reason,
        action=action,
    )
