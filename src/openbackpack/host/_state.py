"""What a request handler gets: the host's state, the public origin, and the caller.

FastAPI dependencies live here: :func:`context` for open routes, :func:`authenticated`
for Badgr v2 routes (Bearer token, 401 envelope otherwise) and :func:`badgr_body` for the
v2 request body.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import Connection
from starlette.requests import Request

from openbackpack.credentials import StatusListCache
from openbackpack.host._accounts import HostUser, user_for_token
from openbackpack.host._body import BodyError, read_body
from openbackpack.host._db import HostDatabase
from openbackpack.host._faults import FaultInjector
from openbackpack.host._fetch import Fetcher
from openbackpack.host._loop import loop_dependency
from openbackpack.host._settings import HostSettings
from openbackpack.host._wire import BadgrError, bad_request, not_found

__all__ = [
    "API_PREFIX",
    "Authed",
    "BadgrBody",
    "Ctx",
    "HostState",
    "Open",
    "authenticated",
    "badgr_body",
    "bearer_token",
    "context",
]

API_PREFIX = "/v2"


@dataclass(slots=True)
class HostState:
    """Everything shared by the requests of one app."""

    settings: HostSettings
    database: HostDatabase
    fetcher: Fetcher
    faults: FaultInjector
    status_lists: StatusListCache


@dataclass(frozen=True, slots=True)
class Ctx:
    """One request's view of the host."""

    state: HostState
    request: Request
    origin: str
    user: HostUser | None = None

    @property
    def api_url(self) -> str:
        """The host's v2 API URL as seen by this request."""
        return self.origin + API_PREFIX

    @property
    def settings(self) -> HostSettings:
        """The host's settings."""
        return self.state.settings

    @property
    def me(self) -> HostUser:
        """The authenticated caller (only on authenticated routes)."""
        assert self.user is not None
        return self.user

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """The request's single transaction: all of it is written, or none."""
        with self.state.database.begin() as connection:
            yield connection


def _origin(request: Request, settings: HostSettings) -> str:
    if settings.public_url:
        return settings.public_url.strip().rstrip("/")
    return str(request.base_url).rstrip("/")


def context(request: Request) -> Ctx:
    """The context of an unauthenticated request."""
    state: HostState = request.app.state.host
    return Ctx(state, request, _origin(request, state.settings))


def bearer_token(request: Request) -> str | None:
    """The access token a request carries (Bearer header, or ``access_token`` query)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    # oauthlib also reads the token from the query string; Badgr therefore accepts it.
    return request.query_params.get("access_token") or None


def authenticated(request: Request) -> Ctx:
    """The context of a v2 request with a valid Bearer token.

    Raises:
        BadgrError: 401 without a valid token; 404 when the account has no verified
            e-mail (Badgr denies, and v2 turns a denial into 404).
    """
    ctx = context(request)
    token = bearer_token(request)
    user = None
    if token is not None:
        with ctx.state.database.begin() as connection:
            user = user_for_token(connection, token, ctx.settings.token_lifetime)
    if user is None:
        raise BadgrError(401, "no valid auth token found")
    if not user.verified_emails:
        raise not_found()
    return Ctx(ctx.state, request, ctx.origin, user)


async def badgr_body(request: Request) -> Any:
    """The v2 request body, decoded; malformed input is a 400 in Badgr's envelope."""
    state: HostState = request.app.state.host
    try:
        return await read_body(request, state.settings.max_body_bytes)
    except BodyError as exc:
        if exc.status == 400:
            raise bad_request(validation_errors=[exc.message]) from None
        raise BadgrError(exc.status, "miscellaneous error", field_errors=exc.message) from None


# The token checks are a statement or two on the host's database: run on the event loop (see
# ``_loop``), whether the handler after them runs there or in a worker thread.
Open = Annotated[Ctx, Depends(loop_dependency(context))]
Authed = Annotated[Ctx, Depends(loop_dependency(authenticated))]
BadgrBody = Annotated[Any, Depends(badgr_body)]
