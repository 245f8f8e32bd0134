"""The rules of one call, pure: which redirects to follow, the answer cap, the call's deadline.

Both clients send with redirects off and apply these rules themselves, because ``httpx2``
follows a redirect for every method and to any origin: a 307 to another host would re-send
a password grant or a JSON body full of recipient emails there.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping
from typing import Final
from urllib.parse import urljoin, urlsplit

import httpx2

from openbackpack._exceptions import AnswerTooLargeError, RedirectRefusedError, RequestTimeoutError
from openbackpack.client._core import Answer, Outgoing
from openbackpack.protocols import action_words

__all__ = [
    "MAX_REDIRECTS",
    "BodyReader",
    "Deadline",
    "origin_of",
    "redirect_to",
    "refused",
]

MAX_REDIRECTS: Final = 5
"""Redirects followed in one attempt before the client gives up."""

_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """``scheme://host:port`` of a URL, lower-case, the default port written out."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port}"


def _without_auth(headers: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key.lower() != "authorization"}


def redirect_to(
    outgoing: Outgoing, answer: Answer, allowed_origins: Iterable[str] = ()
) -> Outgoing | None:
    """The request to send next if ``answer`` is a redirect the client follows, else None.

    Only a GET that is not a token request is followed, and only to its own origin or to
    one of ``allowed_origins`` (its ``Authorization`` header is dropped there).

    Raises:
        RedirectRefusedError: the answer is a redirect the client must not follow.
    """
    location = answer.headers.get("location")
    if answer.status_code not in _REDIRECTS or not location:
        return None
    target = urljoin(outgoing.url, location.strip())
    same_origin = origin_of(target) == origin_of(outgoing.url)
    reason = ""
    if outgoing.token_endpoint:
        reason = "a token request is never redirected"
    elif outgoing.method != "GET":
        reason = f"a {outgoing.method} is never redirected (its body would be re-sent or lost)"
    elif urlsplit(target).scheme.lower() not in _DEFAULT_PORTS:
        reason = "the target is not an http(s) URL"
    elif not same_origin and origin_of(target) not in {origin_of(o) for o in allowed_origins}:
        reason = "the target is on another origin"
    if reason:
        raise refused(outgoing, answer.status_code, target, reason)
    headers = outgoing.headers if same_origin else _without_auth(outgoing.headers)
    return dataclasses.replace(outgoing, url=target, headers=headers)


def refused(outgoing: Outgoing, status: int, target: str, reason: str) -> RedirectRefusedError:
    """The error for a redirect from ``outgoing`` to ``target`` that is not followed."""
    return RedirectRefusedError(
        f"could not {action_words(outgoing.action)}: "
        f"refused the HTTP {status} redirect of {outgoing.method} "
        f"{outgoing.url} to {target}: {reason}",
        status_code=status,
        url=outgoing.url,
        location=target,
        action=outgoing.action,
    )


class Deadline:
    """The moment a call must be over, across all its attempts, redirects and waits."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._end = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        """Seconds left (never negative), or None when there is no deadline."""
        return None if self._end is None else max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        left = self.remaining()
        return left is not None and left <= 0

    def allows(self, wait: float) -> bool:
        """Whether waiting ``wait`` seconds still leaves time for another attempt."""
        left = self.remaining()
        return left is None or wait < left

    def clip(self, timeout: httpx2.Timeout) -> httpx2.Timeout:
        """``timeout`` with each phase cut to the time left."""
        left = self.remaining()
        if left is None:
            return timeout
        left = max(left, 0.001)

        def cut(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx2.Timeout(
            connect=cut(timeout.connect),
            read=cut(timeout.read),
            write=cut(timeout.write),
            pool=cut(timeout.pool),
        )

    def error(self, outgoing: Outgoing) -> RequestTimeoutError:
        """The error of a call whose deadline passed."""
        return RequestTimeoutError(
            f"could not {action_words(outgoing.action)}: "
            f"no complete answer within the call's deadline of "
            f"{self.seconds:g} s on {outgoing.method} {outgoing.url}",
            action=outgoing.action,
        )


class BodyReader:
    """Collects an answer's body as it streams in, refusing it past ``limit`` bytes."""

    def __init__(self, outgoing: Outgoing, response: httpx2.Response, limit: int | None) -> None:
        self._outgoing = outgoing
        self._response = response
        self._limit = limit
        self._chunks: list[bytes] = []
        self._size = 0
        declared = response.headers.get("content-length", "")
        # Refused before reading a byte when the answer announces its size.
        if limit is not None and declared.isdigit() and int(declared) > limit:
            raise self._too_large()

    def add(self, chunk: bytes) -> None:
        """Keep one decoded chunk; raise AnswerTooLargeError once the cap is passed."""
        self._size += len(chunk)
        if self._limit is not None and self._size > self._limit:
            raise self._too_large()
        self._chunks.append(chunk)

    def answer(self) -> Answer:
        """The whole answer, once the body is read."""
        response = self._response
        return Answer(
            response.status_code, response.headers, b"".join(self._chunks), str(response.url)
        )

    def _too_large(self) -> AnswerTooLargeError:
        outgoing = self._outgoing
        return AnswerTooLargeError(
            f"could not {action_words(outgoing.action)}: "
            f"the answer of {outgoing.method} {outgoing.url} is larger than "
            f"the client's limit of {self._limit} bytes",
            limit=self._limit or 0,
            url=outgoing.url,
            action=outgoing.action,
        )
