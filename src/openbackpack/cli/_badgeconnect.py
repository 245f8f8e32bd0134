"""Connecting a Badge Connect (2.1) backpack from the command line: a loopback redirect listener.

The command binds 127.0.0.1 (on the port its registration used before, else any free port),
registers ``http://127.0.0.1:PORT/callback`` as the redirect URI when the stored client does
not allow it yet, prints the authorization URL (and opens it unless ``--no-browser``), waits
for the browser to come back, and finishes the connection. RFC 8252 §7.3 asks hosts to accept
a loopback redirect on any port; trying the registered port first also suits hosts that
compare redirect URIs exactly.
"""

from __future__ import annotations

import html
import socket
import threading
import webbrowser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qs, urlsplit

from openbackpack.api.discovery import registered_redirects
from openbackpack.serve import bind_socket, serve_in_thread
from openbackpack.services import (
    OAuthStateError,
    begin_oauth_connection,
    cancel_oauth_connection,
    complete_oauth_connection,
    default_client_metadata,
    site_client_metadata,
)
from openbackpack.store import BackpackAccount, Store

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import HTMLResponse

__all__ = [
    "CALLBACK_PATH",
    "ConnectTimeoutError",
    "begin_with_redirect",
    "callback_of",
    "connect_in_browser",
    "finish_with_callback",
]

CALLBACK_PATH: Final = "/callback"
_PAGE: Final = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>openbackpack</title></head>"
    "<body><h1>{}</h1><p>You can close this window and go back to the terminal.</p></body></html>"
)


class ConnectTimeoutError(Exception):
    """The browser did not come back within the time allowed."""


@dataclass(frozen=True, slots=True)
class _Callback:
    state: str
    code: str | None
    error: str | None
    error_description: str | None


def callback_of(pasted: str, state: str | None = None) -> _Callback:
    """Read what the user pasted: the address the browser was sent to, or the bare code.

    A bare code belongs to ``state`` (the connection this command started); an address
    carries its own ``state``.

    Raises:
        OAuthStateError: the text is empty, or a bare code with no connection to belong to.
    """
    text = pasted.strip()
    if not text:
        raise OAuthStateError("nothing was pasted: paste the address or the code")
    if "://" not in text and "=" not in text:
        if state is None:
            raise OAuthStateError("a bare code needs its connection: pass the whole address")
        return _Callback(state=state, code=text, error=None, error_description=None)
    query = {k: v[0] for k, v in parse_qs(urlsplit(text).query or text).items()}
    return _Callback(
        state=query.get("state", ""),
        code=query.get("code"),
        error=query.get("error"),
        error_description=query.get("error_description"),
    )


class _Listener:
    """Takes the first redirect to ``/callback`` and remembers its query."""

    def __init__(self) -> None:
        self.received: _Callback | None = None
        self.done = threading.Event()
        # A bare Starlette app: one route needs no FastAPI, and every command would pay
        # for loading it.
        from starlette.applications import Starlette
        from starlette.routing import Route

        self.app = Starlette(routes=[Route(CALLBACK_PATH, self._callback, methods=["GET"])])

    def _callback(self, request: Request) -> HTMLResponse:
        from starlette.responses import HTMLResponse

        query = request.query_params
        if not self.done.is_set():
            self.received = _Callback(
                state=query.get("state", ""),
                code=query.get("code"),
                error=query.get("error"),
                error_description=query.get("error_description"),
            )
            self.done.set()
        title = "Connection refused" if query.get("error") else "Backpack connected"
        return HTMLResponse(_PAGE.format(html.escape(title)))


def _preferred_port(store: Store, provider_id: int) -> int:
    with store.transaction() as tx:
        registered = tx.oauth_clients.get(provider_id)
    for uri in registered_redirects(registered) if registered is not None else []:
        parts = urlsplit(uri)
        if parts.scheme == "http" and parts.hostname == "127.0.0.1" and parts.port:
            return parts.port
    return 0


def _bind(port: int) -> socket.socket:
    try:
        return bind_socket("127.0.0.1", port)
    except OSError:
        # The registered port is taken: any port will do for hosts that follow RFC 8252.
        return bind_socket("127.0.0.1", 0)


@contextmanager
def _listening(store: Store, provider_id: int) -> Iterator[tuple[_Listener, str]]:
    listener = _Listener()
    sock = _bind(_preferred_port(store, provider_id))
    with serve_in_thread(listener.app, sock=sock) as base_url:
        yield listener, base_url


def connect_in_browser(
    store: Store,
    owner: str,
    provider_id: int,
    *,
    email: str | None,
    open_browser: bool,
    timeout: float,
    show: Callable[[str], None],
) -> BackpackAccount:
    """Run the whole OAuth connection with a loopback listener; ``show`` prints a line.

    Raises:
        ConnectTimeoutError: no redirect came back within ``timeout`` seconds (the pending
            authorization is forgotten).
        OAuthStateError, AuthorizationDeniedError, AuthenticationError: as
            :func:`~openbackpack.services.complete_oauth_connection`.
    """
    with _listening(store, provider_id) as (listener, base_url):
        metadata = default_client_metadata(base_url, "openbackpack command line")
        url, state = begin_oauth_connection(
            store, owner, provider_id, base_url + CALLBACK_PATH, email=email, metadata=metadata
        )
        show("Open this address in a browser, log in to the backpack and allow the connection:")
        show(url)
        if open_browser:
            webbrowser.open(url)
        arrived = listener.done.wait(timeout)
    if not arrived or listener.received is None:
        cancel_oauth_connection(store, state)
        raise ConnectTimeoutError(f"no answer from the browser within {timeout:g} seconds")
    return finish_with_callback(store, listener.received)


def begin_with_redirect(
    store: Store, owner: str, provider_id: int, redirect_uri: str, *, email: str | None
) -> tuple[str, str]:
    """Start a connection whose redirect URI is the platform's own page; (URL, state).

    The registration metadata comes from the site settings (``site_url``, ``site_logo_url``).
    """
    metadata = site_client_metadata(store, redirect_uri)
    return begin_oauth_connection(
        store, owner, provider_id, redirect_uri, email=email, metadata=metadata
    )


def finish_with_callback(store: Store, back: _Callback) -> BackpackAccount:
    """Finish a connection with what the browser was sent back with."""
    return complete_oauth_connection(
        store,
        back.state,
        back.code,
        error=back.error,
        error_description=back.error_description,
    )
