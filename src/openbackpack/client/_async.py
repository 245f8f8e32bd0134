"""The asynchronous client: the same verbs as ``BackpackClient``, awaited."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

import anyio
import httpx2

from openbackpack._exceptions import BlockedAddressError
from openbackpack._tls import verifying_context
from openbackpack.client._addresses import (
    AddressPolicy,
    IPAddress,
    addresses_of,
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

__all__ = ["AsyncBackpackClient"]

_GRACE = 0.1


class AsyncBackpackClient(_BaseClient):
    """Talks to backpacks over one pooled ``httpx2.AsyncClient``.

    Arguments, verbs, results and errors are those of
    :class:`~openbackpack.client.BackpackClient`; every verb is awaited and the lifecycle
    twin of ``close`` is :meth:`aclose`.
    """

    def __init__(
        self,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        http_client: httpx2.AsyncClient | None = None,
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
        self._http = http_client or httpx2.AsyncClient(
            transport=transport,
            timeout=self.timeout,
            follow_redirects=False,
            verify=verifying_context(),
        )

    async def send(self, outgoing: Outgoing) -> Answer:
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
                await anyio.sleep(pause)
            try:
                answer = await self._bounded_exchange(outgoing, deadline)
            except httpx2.HTTPError as exc:
                wait = self.retry_after_error(outgoing, exc, retry)
                if wait is None or not deadline.allows(wait):
                    raise self.transport_error(outgoing, exc) from exc
            else:
                wait = self.retry_after_answer(outgoing, answer, retry)
                if wait is None or not deadline.allows(wait):
                    return answer
            if wait > 0:
                await anyio.sleep(wait)
            retry += 1

    async def _bounded_exchange(self, outgoing: Outgoing, deadline: Deadline) -> Answer:
        left = deadline.remaining()
        if left is None:
            return await self._exchange(outgoing, deadline)
        try:
            # A little grace, so a phase timeout cut to the deadline reports itself first.
            with anyio.fail_after(left + _GRACE):
                return await self._exchange(outgoing, deadline)
        except TimeoutError as exc:
            raise deadline.error(outgoing) from exc

    async def _exchange(self, outgoing: Outgoing, deadline: Deadline) -> Answer:
        # One attempt: the request, the redirects the rules allow, each body read to the cap.
        current = outgoing
        for _ in range(MAX_REDIRECTS + 1):
            await self._check_address(current)
            response = await self._http.send(
                self._build(current, deadline), stream=True, follow_redirects=False
            )
            try:
                reader = BodyReader(current, response, self.max_answer_bytes)
                async for chunk in response.aiter_bytes():
                    reader.add(chunk)
            finally:
                await response.aclose()
            answer = reader.answer()
            following = redirect_to(current, answer, self.redirect_origins)
            if following is None:
                return answer
            current = following
        raise refused(current, answer.status_code, current.url, "too many redirects")

    async def fetch(
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
        return self.checked(outgoing, await self.send(outgoing))

    async def iter_pages(
        self,
        endpoint: Endpoint,
        api_url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        query: Sequence[tuple[str, str]] = (),
        token: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> AsyncIterator[Answer]:
        """Stream a paged list, one page's answer at a time (see ``BackpackClient.iter_pages``)."""
        outgoing: Outgoing | None = self.first_page(
            endpoint, api_url, params=params, query=query, token=token, page_size=page_size
        )
        while outgoing is not None:
            answer = self.checked(outgoing, await self.send(outgoing))
            yield answer
            outgoing = self.next_page(outgoing, answer)

    async def iter_items(
        self,
        endpoint: Endpoint,
        api_url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        query: Sequence[tuple[str, str]] = (),
        token: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> AsyncIterator[Any]:
        """Stream the items of a paged list (see ``BackpackClient.iter_items``)."""
        pages = self.iter_pages(
            endpoint, api_url, params=params, query=query, token=token, page_size=page_size
        )
        async for page in pages:
            for item in self.page_items(page, endpoint.name):
                yield item

    async def perform(
        self,
        mapping: ActionMapping,
        api_url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        data: Any = None,
        token: str | None = None,
    ) -> Any:
        """Run one row of Moodle's action table and return its typed result."""
        outgoing = self.for_mapping(mapping, api_url, params=params, data=data, token=token)
        return self.interpret(mapping, await self.send(outgoing))

    async def password_grant(self, api_url: str, email: str, password: str) -> TokenGrant:
        """Log in with Badgr's password grant; raises AuthenticationError when refused."""
        answer = await self.send(self.password_request(api_url, email, password))
        return self.token_grant(answer, "user")

    async def refresh_grant(self, api_url: str, refresh_token: str) -> TokenGrant:
        """Trade a refresh token for a new token; raises AuthenticationError when refused."""
        answer = await self.send(self.refresh_request(api_url, refresh_token))
        return self.token_grant(answer, "refresh")

    async def aclose(self) -> None:
        """Close the pooled connections (unless the ``httpx2.AsyncClient`` was given to us)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncBackpackClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _check_address(self, outgoing: Outgoing) -> None:
        policy = self.address_policy(outgoing)
        if policy is None:
            return
        try:
            pending = policy.check_url(outgoing.url)
            if pending is not None:
                policy.check_addresses(outgoing.url, await _resolve(*pending))
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


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        # No address to refuse: the connection fails with the transport's own error.
        return []
    return addresses_of(infos)
