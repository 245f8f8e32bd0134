"""The two values a client exchanges: a request ready to send, and the answer it got."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx2

from openbackpack.protocols import decode_json

__all__ = ["Answer", "Outgoing"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A request ready to send: everything but the connection.

    ``headers`` may hold an ``Authorization`` header; its ``repr`` never shows it.
    ``announced`` marks a URL a remote host announced (a Badge Connect manifest's), which the
    client's ``announced_addresses`` policy checks; the others are checked by
    ``provider_addresses``, when set.
    """

    action: str
    method: str
    url: str
    idempotent: bool
    token_endpoint: bool
    headers: dict[str, str] = field(repr=False)
    content: bytes | None = field(default=None, repr=False)
    announced: bool = False


@dataclass(frozen=True, slots=True)
class Answer:
    """What the backpack answered: status, headers and the whole body."""

    status_code: int
    headers: httpx2.Headers
    content: bytes = field(repr=False)
    url: str = ""

    def json(self) -> Any:
        """The body decoded as JSON (whatever the Content-Type), or None if it is not JSON."""
        return decode_json(self.content)

    @property
    def is_success(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status_code < 300
