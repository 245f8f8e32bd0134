"""Fault injection: latency, failures, cut-off answers, a token-bucket rate limit, black holes.

A black hole answers a create or an import with success and stores nothing: the silent loss
a client can only catch by reading the host back.

Off unless :class:`~openbackpack.host.FaultSettings` asks for it. Draws come from one seeded
random generator and the counters (``fail_first``, :meth:`FaultInjector.fail_next`) are exact,
so a test can ask for "the next two requests fail with 503" and get exactly that.
Injected errors use the shape of the protocol the path belongs to.
"""

from __future__ import annotations

import json
import math
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openbackpack.host._settings import FaultSettings
from openbackpack.host._wire import badgeconnect_body, dumps, protocol_of

__all__ = ["Decision", "FaultInjector", "FaultMiddleware", "error_payload"]

_EXEMPT: Final = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
_OB3_CREDENTIALS: Final = "/ims/ob/v3p0/credentials"
_CREATES: Final = (
    "/backpack/import",
    "/ims/ob/v2p1/assertions",
    "/bcv1/assertions",
    _OB3_CREDENTIALS,
)
"""The paths (by their end) whose POSTs a black hole swallows."""
_DESCRIPTIONS: Final = {
    429: "Request was throttled.",
    500: "Internal server error.",
    502: "Bad gateway.",
    503: "Service temporarily unavailable.",
    504: "Gateway timeout.",
}


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one request: ``pass``, ``fail`` (with a status), ``drop`` or ``throttle``."""

    action: str
    status: int = 0
    retry_after: int = 0


class FaultInjector:
    """Decides, request by request, which fault (if any) to inject. Thread-safe."""

    def __init__(self, settings: FaultSettings, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._random = random.Random(settings.seed)  # noqa: S311 - faults, not secrets
        self._fail_count = settings.fail_first
        self._fail_status: int | None = None
        self._drop_count = settings.drop_first
        self._drop_path: str | None = None
        self._altered_shown = 0
        self._tokens = float(settings.burst)
        self._refilled = clock()
        self._black_hole_count = settings.black_hole_first

    def black_hole_next(self, count: int) -> None:
        """Answer the next ``count`` creates and imports with success, storing nothing."""
        with self._lock:
            self._black_hole_count = count

    def swallows(self, method: str, path: str) -> bool:
        """Whether this request is a create the black hole answers (and drops)."""
        if method != "POST" or not path.rstrip("/").endswith(_CREATES):
            return False
        with self._lock:
            if self._black_hole_count > 0:
                self._black_hole_count -= 1
                return True
            rate = self.settings.black_hole_rate
            return bool(rate) and self._random.random() < rate

    def alter_shown(self, count: int) -> None:
        """Show the first ``count`` credentials of every ``getCredentials`` page altered (0: off).

        Each is shown with its ``name`` changed and its proof kept, as a host that corrupts
        what it stores would show it: what it took is unchanged, and no longer verifies as
        shown.
        """
        with self._lock:
            self._altered_shown = count

    def altered_shown(self, method: str, path: str) -> int:
        """How many credentials of this answer to show altered (0 for any other request)."""
        if method != "GET" or not path.rstrip("/").endswith(_OB3_CREDENTIALS):
            return 0
        with self._lock:
            return self._altered_shown

    def fail_next(self, count: int, status: int | None = None) -> None:
        """Fail the next ``count`` requests, with ``status`` or the configured statuses."""
        with self._lock:
            self._fail_count = count
            self._fail_status = status

    def drop_next(self, count: int, *, path: str | None = None) -> None:
        """Cut off the answers to the next ``count`` requests (only to ``path``, when given).

        The request itself is handled in full: what it changed on the host stays changed,
        and only the client never learns of it (a registered client, an issued token).
        """
        with self._lock:
            self._drop_count = count
            self._drop_path = path

    def decide(self, path: str = "") -> Decision:
        """Draw the fate of one request (to ``path``)."""
        with self._lock:
            wait = self._take_token()
            if wait:
                return Decision("throttle", 429, wait)
            if self._fail_count > 0:
                self._fail_count -= 1
                return self._failure(self._fail_status)
            if self._drop_count > 0 and self._drop_path in (None, path):
                self._drop_count -= 1
                return Decision("drop")
            if self.settings.failure_rate and self._random.random() < self.settings.failure_rate:
                return self._failure(None)
            if self.settings.drop_rate and self._random.random() < self.settings.drop_rate:
                return Decision("drop")
            return Decision("pass")

    def _failure(self, status: int | None) -> Decision:
        chosen = status or self._random.choice(self.settings.failure_statuses)
        return Decision("fail", chosen, self.settings.retry_after if chosen == 429 else 0)

    def _take_token(self) -> int:
        rate = self.settings.rate_limit
        if rate is None:
            return 0
        now = self._clock()
        self._tokens = min(self.settings.burst, self._tokens + (now - self._refilled) * rate)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0
        return max(1, math.ceil((1 - self._tokens) / rate))


def error_payload(path: str, status: int, retry_after: int) -> tuple[bytes, str]:
    """The body and media type of an injected error, in the path's protocol."""
    description = _DESCRIPTIONS.get(status, "Injected failure.")
    if status == 429:
        description = f"Request was throttled. Expected available in {retry_after} seconds."
    protocol = protocol_of(path)
    body: dict[str, Any]
    if protocol == "oauth":
        body = {"error": "temporarily_unavailable", "error_description": description}
        if status == 429:
            body = {
                "error_description": description,
                "error": "rate limited",
                "expires": retry_after,
            }
    elif protocol == "displayer":
        body = {"httpStatus": status, "status": "error", "error": description}
    elif protocol == "badgeconnect":
        body = {"status": {"error": description, "statusCode": status}}
    else:
        body = {
            "status": {"success": False, "description": "miscellaneous error"},
            "result": [],
            "fieldErrors": description,
            "validationErrors": [],
        }
    return dumps(body), "application/json"


class FaultMiddleware:
    """ASGI middleware applying a :class:`FaultInjector`'s decisions."""

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Delay, fail, throttle or cut off a request, or pass it through."""
        if scope["type"] != "http" or scope["path"] in _EXEMPT:
            await self.app(scope, receive, send)
            return
        decision = self.injector.decide(scope["path"])
        if self.injector.settings.latency:
            await anyio.sleep(self.injector.settings.latency)
        if decision.action in ("fail", "throttle"):
            await _send_error(scope["path"], decision, send)
        elif decision.action == "drop":
            await self.app(scope, receive, _cut_off(send))
        elif self.injector.swallows(scope["method"], scope["path"]):
            await _swallow(scope, receive, send)
        elif altered := self.injector.altered_shown(scope["method"], scope["path"]):
            await self.app(scope, receive, _altering(send, altered))
        else:
            await self.app(scope, receive, send)


async def _send_error(path: str, decision: Decision, send: Send) -> None:
    body, media_type = error_payload(path, decision.status, decision.retry_after)
    headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    if decision.status == 429 or decision.status == 503:
        headers.append((b"retry-after", str(max(decision.retry_after, 1)).encode()))
    await send({"type": "http.response.start", "status": decision.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _swallow(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the request, answer as if it was stored, store nothing."""
    path: str = scope["path"]
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False) and message["type"] == "http.request"
    media = b"application/json"
    if path.rstrip("/").endswith(_OB3_CREDENTIALS):
        # upsertCredential echoes the credential it took (JSON, or a JWS as text).
        status, data = 201, b"".join(chunks)
        media = dict(scope.get("headers", [])).get(b"content-type", media)
    elif protocol_of(path) == "badgeconnect":
        badgr = path.startswith("/bcv1/")
        status = 201 if badgr else 200
        data = dumps(badgeconnect_body(200, "OK", badgr=badgr))
    else:
        item = {
            "entityType": "Assertion",
            "entityId": secrets.token_urlsafe(16)[:22],
            "acceptance": "Accepted",
            "revoked": False,
        }
        status = 201
        data = dumps({"status": {"success": True, "description": "ok"}, "result": [item]})
    headers = [(b"content-type", media), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data, "more_body": False})


def _altering(send: Send, count: int) -> Send:
    """Wrap ``send`` to show the first ``count`` JSON credentials of a page altered.

    A ``getCredentials`` page is small enough to hold whole; any other answer (an error,
    a body that is not a page) passes as it is.
    """
    start: dict[str, Message] = {}
    chunks: list[bytes] = []

    async def alter(message: Message) -> None:
        if message["type"] == "http.response.start":
            start["message"] = message
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = _altered_page(b"".join(chunks), count)
        await send(_with_length(start["message"], len(body)))
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return alter


def _altered_page(body: bytes, count: int) -> bytes:
    try:
        page = json.loads(body)
    except ValueError:
        return body
    credentials = page.get("credential") if isinstance(page, dict) else None
    if not isinstance(credentials, list):
        return body
    for credential in credentials[:count]:
        if isinstance(credential, dict):
            credential["name"] = f"{credential.get('name', '')} (altered by the host)"
    return dumps(page)


def _with_length(start: Message, length: int) -> Message:
    """The answer's ``http.response.start`` message announcing ``length`` bytes of body."""
    headers = [
        (name, value)
        for name, value in start.get("headers", [])
        if name.lower() != b"content-length"
    ]
    headers.append((b"content-length", str(length).encode()))
    return {**start, "headers": headers}


def _cut_off(send: Send) -> Send:
    """Wrap ``send`` to announce a longer body than is sent, then stop.

    The server closes the connection because the answer never completes.
    """
    start: dict[str, Message] = {}
    done = False

    async def cut(message: Message) -> None:
        nonlocal done
        if done:
            return
        if message["type"] == "http.response.start":
            start["message"] = message
            return
        if message["type"] == "http.response.body":
            body: bytes = message.get("body", b"")
            await send(_with_length(start["message"], len(body) + 1024))
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            done = True

    return cut
