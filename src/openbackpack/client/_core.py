"""What both clients share and nothing of which touches the network.

:class:`_BaseClient` turns an endpoint or a mapping row plus parameters into an
:class:`Outgoing` request, decides about retries, and turns answers and ``httpx2`` errors into
results or exceptions from the tree in ``openbackpack._exceptions``. ``BackpackClient`` and
``AsyncBackpackClient`` only send.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

import httpx2

from openbackpack._exceptions import InvalidResponseError, RequestTimeoutError, TransportError
from openbackpack.client._addresses import AddressPolicy
from openbackpack.client._messages import Answer, Outgoing
from openbackpack.client._pacing import Pacing
from openbackpack.client._retry import RetryPolicy, is_testing
from openbackpack.models import TokenGrant
from openbackpack.protocols import (
    Action,
    Body,
    Endpoint,
    RequestKind,
    ResultKind,
    Shape,
    action_words,
    badgr,
    build_url,
    credentials_form,
    error_from_response,
    interpret,
    next_page_url,
    redact,
    retry_after_from,
)
from openbackpack.protocols import (
    Mapping as ActionMapping,
)

__all__ = [
    "DEFAULT_MAX_ANSWER_BYTES",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_TIMEOUT",
    "Answer",
    "Outgoing",
]

logger = logging.getLogger("openbackpack.client")
wait_logger = logging.getLogger("openbackpack.client.waits")
"""Announces waits a person would notice, as they start (the command line prints these)."""
_NOTABLE_WAIT = 1.0

DEFAULT_TIMEOUT: Final = httpx2.Timeout(10.0)
"""Connect, read, write and pool timeouts of 10 seconds each (Moodle had only a 3 s connect)."""

DEFAULT_MAX_ANSWER_BYTES: Final = 16 * 1024 * 1024
"""The largest answer body a client reads by default: 16 MiB (a full Badgr page is ~1 MiB)."""

DEFAULT_PAGE_SIZE: Final = 500
"""Items per page when streaming a paged list: Badgr's largest ``num``, fewest round trips."""

_JSON: Final = "application/json"
_FORM: Final = "application/x-www-form-urlencoded"
_RATE_LIMITED: Final = 429

# The token endpoint as a mapping row, to read both grants' answers (Moodle's table has only the
# password grant, as action ``user``).
_TOKEN_ROW = ActionMapping(
    action=Action.USER,
    endpoint=badgr.route("token"),
    request=RequestKind.NONE,
    result=ResultKind.TOKEN,
    many=False,
)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _encode(kind: Body, data: Any) -> tuple[bytes | None, str | None]:
    if data is None or kind is Body.NONE:
        return None, None
    if kind is Body.FORM:
        return urlencode(dict(data)).encode(), _FORM
    return json.dumps(data, separators=(",", ":")).encode(), _JSON


class _BaseClient:
    """The pure half of a client: configuration, request building, answer interpretation."""

    def __init__(
        self,
        *,
        timeout: float | httpx2.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        rate_limit: Pacing | None = None,
        deadline: float | None = None,
        max_answer_bytes: int | None = DEFAULT_MAX_ANSWER_BYTES,
        redirect_origins: Iterable[str] = (),
        announced_addresses: AddressPolicy | None = None,
        provider_addresses: AddressPolicy | None = None,
    ) -> None:
        self.timeout = timeout if isinstance(timeout, httpx2.Timeout) else httpx2.Timeout(timeout)
        self.retry = retry if retry is not None else RetryPolicy()
        self.headers = {"Accept": _JSON, **(headers or {})}
        self.rate_limit = rate_limit
        if deadline is not None and deadline <= 0:
            raise ValueError("deadline must be positive")
        if max_answer_bytes is not None and max_answer_bytes < 1:
            raise ValueError("max_answer_bytes must be at least 1")
        self.deadline = deadline
        self.max_answer_bytes = max_answer_bytes
        self.redirect_origins = tuple(redirect_origins)
        self.announced_addresses = (
            announced_addresses
            if announced_addresses is not None
            else AddressPolicy.from_environment()
        )
        self.provider_addresses = provider_addresses

    def address_policy(self, outgoing: Outgoing) -> AddressPolicy | None:
        """The policy that checks ``outgoing``'s URL (None: not checked)."""
        return self.announced_addresses if outgoing.announced else self.provider_addresses

    def call_deadline(self) -> float | None:
        """The seconds one call may take in all: ``deadline``, or the timeouts times attempts."""
        if self.deadline is not None:
            return self.deadline
        values = [t for t in (self.timeout.connect, self.timeout.read, self.timeout.write) if t]
        return max(values) * self.retry.attempts if values else None

    def pacing_wait(self, outgoing: Outgoing) -> float:
        """The seconds to wait before the next attempt, as the rate limiter says (0 without)."""
        if self.rate_limit is None:
            return 0.0
        # The send time is taken even in testing mode, so the limiter's state stays real.
        wait = self.rate_limit.reserve_for(outgoing.url)
        return 0.0 if is_testing() else wait

    def outgoing(
        self,
        endpoint: Endpoint,
        api_url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        query: Sequence[tuple[str, str]] = (),
        data: Any = None,
        token: str | None = None,
        action: str | None = None,
    ) -> Outgoing:
        """Build the request for one endpoint.

        ``data`` is encoded as the endpoint says (JSON or form fields); ``token`` is sent as a
        Bearer token only if the endpoint requires authentication.

        Raises:
            KeyError: a path parameter is missing.
            ValueError: a path parameter is empty.
        """
        content, content_type = _encode(endpoint.body, data)
        headers = dict(self.headers)
        if content_type:
            headers["Content-Type"] = content_type
        if endpoint.auth and token:
            headers["Authorization"] = f"Bearer {token}"
        return Outgoing(
            action=action or endpoint.name,
            method=endpoint.method,
            url=build_url(endpoint, api_url, params, query),
            idempotent=endpoint.idempotent,
            token_endpoint=endpoint.shape is Shape.TOKEN,
            headers=headers,
            content=content,
        )

    def outgoing_to(
        self,
        endpoint: Endpoint,
        url: str,
        *,
        data: Any = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        action: str | None = None,
        announced: bool = True,
    ) -> Outgoing:
        """Build the request for one endpoint sent to an absolute ``url``, as it is.

        For URLs a host announces instead of the table's templates: Badge Connect's manifest
        names the token, registration and revocation URLs, and ``Link`` headers name the
        next page. ``headers`` are added (client authentication, ``If-None-Match``).
        ``announced=False`` marks a URL the admin gave (the manifest's own URL), checked
        by ``provider_addresses`` instead of ``announced_addresses``.
        """
        content, content_type = _encode(endpoint.body, data)
        merged = {**self.headers, **(headers or {})}
        if content_type:
            merged["Content-Type"] = content_type
        if endpoint.auth and token:
            merged["Authorization"] = f"Bearer {token}"
        return Outgoing(
            action=action or endpoint.name,
            method=endpoint.method,
            url=url,
            idempotent=endpoint.idempotent,
            token_endpoint=endpoint.shape is Shape.TOKEN,
            headers=merged,
            content=content,
            announced=announced,
        )

    def for_mapping(
        self,
        mapping: ActionMapping,
        api_url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        data: Any = None,
        token: str | None = None,
    ) -> Outgoing:
        """Build the request for one row of Moodle's action table."""
        return self.outgoing(
            mapping.endpoint,
            api_url,
            params=params,
            query=mapping.query,
            data=data,
            token=token,
            action=mapping.action.value,
        )

    def first_page(
        self,
        endpoint: Endpoint,
        api_url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        query: Sequence[tuple[str, str]] = (),
        token: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Outgoing:
        """The request for the first page of a paged list: the endpoint with ``num``.

        Raises:
            ValueError: the endpoint is not a paged list, or ``page_size`` is not 1 to 500.
        """
        if not endpoint.paged:
            raise ValueError(f"{endpoint.name} is not a paged list (see Endpoint.paged)")
        if not 1 <= page_size <= DEFAULT_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {DEFAULT_PAGE_SIZE}")
        pages = [*query, ("num", str(page_size))]
        return self.outgoing(endpoint, api_url, params=params, query=pages, token=token)

    @staticmethod
    def next_page(outgoing: Outgoing, answer: Answer) -> Outgoing | None:
        """The request for the page after ``answer`` (its ``Link`` rel="next"), or None.

        Raises:
            InvalidResponseError: the link leads to another origin (the token is never sent
                there) or back to the same page (which would never end).
        """
        url = next_page_url(answer.headers)
        if url is None:
            return None
        if _origin(url) != _origin(outgoing.url):
            raise InvalidResponseError(
                f"could not {action_words(outgoing.action)}: "
                f"the next page is on another origin ({_origin(url)})",
                action=outgoing.action,
            )
        if url == outgoing.url:
            raise InvalidResponseError(
                f"could not {action_words(outgoing.action)}: the next page is the same page",
                action=outgoing.action,
            )
        return dataclasses.replace(outgoing, url=url)

    @staticmethod
    def page_items(answer: Answer, action: str) -> list[Any]:
        """The items of one page: the ``result`` list of Badgr's envelope, as decoded JSON.

        Raises:
            InvalidResponseError: the body is not an envelope with a ``result`` list.
        """
        body = answer.json()
        items = body.get("result") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise InvalidResponseError(f"{action}: a page without a result list", action=action)
        return items

    def password_request(self, api_url: str, email: str, password: str) -> Outgoing:
        """Badgr's password grant, as Moodle sends it: ``username`` and ``password`` only."""
        return self.outgoing(
            badgr.route("token"),
            api_url,
            data=credentials_form(email, password),
            action="user",
        )

    def refresh_request(self, api_url: str, refresh_token: str) -> Outgoing:
        """Badgr's refresh grant (no client credentials: the public client issued the token)."""
        return self.outgoing(
            badgr.route("token"),
            api_url,
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            action="refresh",
        )

    @staticmethod
    def interpret(mapping: ActionMapping, answer: Answer) -> Any:
        """The typed result of a mapping row's answer, or its typed error (raised)."""
        return interpret(mapping, answer.status_code, answer.headers, answer.content)

    @staticmethod
    def token_grant(answer: Answer, action: str) -> TokenGrant:
        """The token of a grant's answer; raises AuthenticationError when it was refused."""
        if not answer.is_success:
            raise error_from_response(
                answer.status_code,
                answer.content,
                answer.headers,
                action=action,
                token_endpoint=True,
            )
        grant = interpret(_TOKEN_ROW, answer.status_code, answer.headers, answer.content)
        assert isinstance(grant, TokenGrant)
        return grant

    @staticmethod
    def checked(outgoing: Outgoing, answer: Answer) -> Answer:
        """Return a 2xx answer as it is; raise the typed error of any other status."""
        if answer.is_success:
            return answer
        raise error_from_response(
            answer.status_code,
            answer.content,
            answer.headers,
            action=outgoing.action,
            token_endpoint=outgoing.token_endpoint,
        )

    def retry_after_answer(self, outgoing: Outgoing, answer: Answer, retry: int) -> float | None:
        """The wait before retrying after ``answer``, or None to keep it."""
        wait = self.retry.after_answer(
            retry,
            answer.status_code,
            answer.headers,
            answer.content,
            idempotent=outgoing.idempotent,
        )
        if answer.status_code == _RATE_LIMITED and self.rate_limit is not None:
            # Hold back the client's other requests too: they would only be refused as well.
            asked = retry_after_from(answer.headers, answer.content) or 0.0
            self.rate_limit.pause_for(
                outgoing.url, wait if wait is not None else asked * self.retry.wait_scale
            )
        if wait is not None:
            logger.info(
                "%s %s: HTTP %s, retrying in %.2fs",
                outgoing.method,
                outgoing.url,
                answer.status_code,
                wait,
            )
            if answer.status_code == _RATE_LIMITED and wait >= _NOTABLE_WAIT:
                # A wait a person would notice (a login throttle's Retry-After): say so now,
                # not after it. The command line shows this logger on stderr.
                wait_logger.info(
                    "the backpack asked to wait (HTTP 429): waiting %.0f s before trying "
                    "to %s again",
                    wait,
                    action_words(outgoing.action),
                )
        return wait

    def retry_after_error(
        self, outgoing: Outgoing, error: httpx2.HTTPError, retry: int
    ) -> float | None:
        """The wait before retrying after a transport error, or None to give up."""
        wait = self.retry.after_error(retry, error, idempotent=outgoing.idempotent)
        if wait is not None:
            logger.info(
                "%s %s: %s, retrying in %.2fs",
                outgoing.method,
                outgoing.url,
                type(error).__name__,
                wait,
            )
        return wait

    @staticmethod
    def transport_error(outgoing: Outgoing, error: httpx2.HTTPError) -> TransportError:
        """The openbackpack error for an ``httpx2`` failure (the caller chains it)."""
        detail = redact(str(error)) or type(error).__name__
        where = f"{outgoing.method} {outgoing.url}"
        words = action_words(outgoing.action)
        if isinstance(error, httpx2.TimeoutException):
            return RequestTimeoutError(
                f"the backpack did not answer in time to {words} "
                f"({type(error).__name__} on {where}: {detail})",
                action=outgoing.action,
            )
        return TransportError(
            f"could not reach the backpack to {words} ({where}: {detail})",
            action=outgoing.action,
        )

    @staticmethod
    def answer_of(response: httpx2.Response) -> Answer:
        """Freeze a fully read ``httpx2`` response."""
        return Answer(response.status_code, response.headers, response.content, str(response.url))
