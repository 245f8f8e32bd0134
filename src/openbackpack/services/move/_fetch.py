"""Fetching the documents a verification needs through a :class:`BackpackClient`.

Through the client, not a bare request: its retry policy, its pacing (a host's rate limit
holds for the issuer documents it serves as well), its address policy and its size cap.
"""

from __future__ import annotations

import copy
import threading
from concurrent.futures import Future
from typing import Any, Final

from openbackpack._exceptions import BackpackError, DocumentUnavailableError
from openbackpack.api.discovery import DOCUMENT
from openbackpack.client import BackpackClient
from openbackpack.credentials import Fetch
from openbackpack.protocols import decode_json

__all__ = ["client_fetch"]

_ACCEPT: Final = {"Accept": "application/ld+json, application/json, */*;q=0.5"}


def client_fetch(client: BackpackClient) -> Fetch:
    """A ``fetch`` for :class:`~openbackpack.credentials.DocumentLoader` over ``client``.

    A 410 answer is read too: it is how a hosted Open Badges 2.0 assertion says it was
    revoked, and its body says why. Anything else that is not a 200 is "unavailable".
    Callers asking for a URL already in flight wait for that one answer (a revocation list
    named by every badge of an issuer is fetched once, not once per thread); nothing is kept
    after it arrives, so a later call fetches again.
    """
    lock = threading.Lock()
    flights: dict[str, Future[Any]] = {}

    def fetch(url: str) -> Any:
        with lock:
            flight = flights.get(url)
            leader = flight is None
            if flight is None:
                flight = flights[url] = Future()
        if not leader:
            return copy.deepcopy(flight.result())
        try:
            result = _get(url)
        except BaseException as exc:
            flight.set_exception(exc)
            raise
        else:
            flight.set_result(result)
            return result
        finally:
            with lock:
                del flights[url]

    def _get(url: str) -> Any:
        if not url.startswith(("http://", "https://")):
            raise DocumentUnavailableError(f"{url} is not an http(s) URL", url=url)
        try:
            outgoing = client.outgoing_to(DOCUMENT, url, headers=_ACCEPT)
            answer = client.send(outgoing)
        except BackpackError as exc:
            raise DocumentUnavailableError(f"{url} cannot be fetched: {exc}", url=url) from None
        if answer.status_code not in (200, 410):
            raise DocumentUnavailableError(f"{url} answered {answer.status_code}", url=url)
        document = decode_json(answer.content)
        if document is None:
            return answer.content.decode("utf-8", errors="replace").strip()  # a VC-JWT
        return document

    return fetch
