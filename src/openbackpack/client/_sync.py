"""The blocking client: one pooled ``httpx2.Client``, retries, typed errors."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx2

from openbackpack._exceptions import BlockedAddressError
from openbackpack._tls import verifying_context
from openbackpack.client._addresses import (
    AddressPolicy,
    for_action,
)
from openbackpack.client._core import (
    DEFAULT_MAX_ANSWER_BYTES,
    DEFAULT_PAGE_SIZE,
    DEFAULT_TIMEOUT,
    Answer,
    Outgoing,
    _BaseClient,
)
from openbackpack.client._exchange import MAX_REDIRECTS, BodyReader, Deadline, redirect_to, refused
from openbackpack.client._pacing import Pacing
from openbackpack.client._retry import RetryPolicy
from openbackpack.models import TokenGrant
from openbackpack.protocols import Endpoint
from openbackpack.protocols import Mapping as ActionMapping

__all__ = ["BackpackClient"]


class BackpackClient(_BaseClient):
    """Talks to backpacks over one pooled ``httpx2.Client`` (Moodle opened one per request).

    Args:
        transport: an ``httpx2`` transport to send through (``httpx2.MockTransport`` in tests).
        http_client: a ready ``httpx2.Client`` to use instead of creating one; it is not
            closed by :meth:`close`.
        timeout: seconds, or an ``httpx2.Timeout``; default 10 s to connect, read, write and
            wait for a pooled connection.
        retry: the :class:`RetryPolicy`; default 3 attempts.
        headers: extra headers sent with every request.
        rate_limit: a :class:`RateLimiter` (or any :class:`Pacing`, such as a limit per host
            shared by workers) that paces every attempt (retries included); off
            by default. A 429 pauses it for the ``Retry-After`` asked, for all requests.
        deadline: the seconds one call may take in all, its attempts, redirects and waits
            included; by default the largest timeout times the retry policy's attempts (30 s).
            A call past it raises :class:`~openbackpack.RequestTimeoutError`.
        max_answer_bytes: the largest answer body read (default 16 MiB; None for no cap);
            a larger one raises :class:`~openbackpack.AnswerTooLargeError`.
        redirect_origins: origins (``https://host[:port]``) a GET may also be redirected to.
            Only GETs are followed, and never a token request: any other redirect raises
            :class:`~openbackpack.RedirectRefusedError`.

    Every verb raises, instead of returning an error value:

    * :class:`~openbackpack.RequestTimeoutError` / :class:`~openbackpack.TransportError` when no
      usable answer came (the ``httpx2`` error is chained);
    * an :class:`~openbackpack.APIStatusError` subclass for an error status;
    * :class:`~openbackpack.InvalidResponseError` for a success whose body is unusable.
    """

    def __init__(
        self,
        *,
        transport: httpx2.BaseTransport | None = None,
        http_client: httpx2.Client | None = None,
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
        super().__init__(
            timeout=timeout,
            retry=retry,
            headers=headers,
            rate_limit=rate_limit,
            deadline=deadline,
            max_answer_bytes=max_answer_bytes,
            redirect_origins=redirect_origins,
            announced_addresses=announced_addresses,
            provider_addresses=provider_addresses,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx2.Client(
            transport=transport,
            timeout=self.timeout,
            follow_redirects=False,
            verify=verifying_context(),
        )

    def send(self, outgoing: Outgoing) -> Answer:
        """Send a request, retrying as the policy allows; return the last answer, any status.

        Raises:
            TransportError: no answer came (``RequestTimeoutError`` for a timeout or the
                call's deadline, ``RedirectRefusedError``, ``AnswerTooLargeError``).
        """
        deadline = Deadline(self.call_deadline())
        retry = 0
        while True:
            pause = self.pacing_wait(outgoing)
            if not deadline.allows(pause):
                raise deadline.error(outgoing)
            if pause > 0:
                time.sleep(pause)
            try:
                answer = self._exchange(outgoing, deadline)
            except httpx2.HTTPError as exc:
                wait = self.retry_after_error(outgoing, exc, retry)
                if wait is None or not deadline.allows(wait):
                    raise self.transport_error(outgoing, exc) from exc
            else:
                wait = self.retry_after_answer(outgoing, answer, retry)
                if wait is None or not deadline.allows(wait):
                    return answer
            if wait > 0:
                time.sleep(wait)
            retry += 1

    def _exchange(self, outgoing: Outgoing, deadline: Deadline) -> Answer:
        # One attempt: the request, the redirects the rules allow, each body read to the cap.
        current = outgoing
        for _ in range(MAX_REDIRECTS + 1):
            self._check_address(current)
            response = self._http.send(
                self._build(current, deadline), stream=True, follow_redirects=False
            )
            try:
                reader = BodyReader(current, response, self.max_answer_bytes)
                for chunk in response.iter_bytes():
                    reader.add(chunk)
                    # A read timeout restarts with every byte; only this stops a slow drip.
                    if deadline.expired():
                        raise deadline.error(current)
            finally:
                response.close()
            answer = reader.answer()
            following = redirect_to(current, answer, self.redirect_origins)
            if following is None:
                return answer
            current = following
        raise refused(current, answer.status_code, current.url, "too many redirects")

    def fetch(
        self,
        endpoint: Endpoint,
        api_url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        query: Sequence[tuple[str, str]] = (),
        data: Any = None,
        token: str | None = None,
    ) -> Answer:
        """Call any route of a protocol table; return its 2xx answer, raise on any other."""
        outgoing = self.outgoing(
            endpoint, api_url, params=params, query=query, data=data, token=token
        )
        return self.checked(outgoing, self.send(outgoing))

    def iter_pages(
        self,
        endpoint: Endpoint,
        api_url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        query: Sequence[tuple[str, str]] = (),
        token: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[Answer]:
        """Stream a paged list (``endpoint.paged``): yield each page's 2xx answer in turn.

        The first request asks for ``num=page_size``; each next one follows the answer's
        ``Link`` rel="next" (Badgr's cursors are opaque), so only one page is held at a
        time. Pages come newest first, as Badgr orders them.

        Raises:
            ValueError: the endpoint is not paged, or ``page_size`` is not 1 to 500
                (before any I/O).
            InvalidResponseError: a next link to another origin or to the same page.
            APIStatusError, TransportError: as :meth:`fetch`, for the page that failed.
        """
        outgoing: Outgoing | None = self.first_page(
            endpoint, api_url, params=params, query=query, token=token, page_size=page_size
        )
        while outgoing is not None:
            answer = self.checked(outgoing, self.send(outgoing))
            yield answer
            outgoing = self.next_page(outgoing, answer)

    def iter_items(
        self,
        endpoint: Endpoint,
        api_url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        query: Sequence[tuple[str, str]] = (),
        token: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[Any]:
        """Stream the items of a paged list, page after page (see :meth:`iter_pages`).

        Each item is the decoded JSON of one entry of the envelope's ``result``.
        """
        pages = self.iter_pages(
            endpoint, api_url, params=params, query=query, token=token, page_size=page_size
        )
        for page in pages:
            yield from self.page_items(page, endpoint.name)

    def perform(
        self,
        mapping: ActionMapping,
        api_url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        data: Any = None,
        token: str | None = None,
    ) -> Any:
        """Run one row of Moodle's action table and return its typed result.

        The result is what :func:`openbackpack.protocols.interpret` makes of the answer: a
        model, a list of models, a :class:`~openbackpack.models.TokenGrant` or a
        :class:`~openbackpack.models.DisplayerUser`.
        """
        outgoing = self.for_mapping(mapping, api_url, params=params, data=data, token=token)
        return self.interpret(mapping, self.send(outgoing))

    def password_grant(self, api_url: str, email: str, password: str) -> TokenGrant:
        """Log in with Badgr's password grant; raises AuthenticationError when refused."""
        return self.token_grant(self.send(self.password_request(api_url, email, password)), "user")

    def refresh_grant(self, api_url: str, refresh_token: str) -> TokenGrant:
        """Trade a refresh token for a new token; raises AuthenticationError when refused."""
        return self.token_grant(self.send(self.refresh_request(api_url, refresh_token)), "refresh")

    def close(self) -> None:
        """Close the pooled connections (unless the ``httpx2.Client`` was given to us)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> BackpackClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_address(self, outgoing: Outgoing) -> None:
        policy = self.address_policy(outgoing)
        if policy is None:
            return
        try:
            policy.check(outgoing.url)
        except BlockedAddressError as exc:
            raise for_action(exc, outgoing.action) from None

    def _build(self, outgoing: Outgoing, deadline: Deadline) -> httpx2.Request:
        return self._http.build_request(
            outgoing.method,
            outgoing.url,
            headers=outgoing.headers,
            content=outgoing.content,
            timeout=deadline.clip(self.timeout),
        )
