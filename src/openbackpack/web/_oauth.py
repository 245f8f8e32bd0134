"""Connecting a Badge Connect (2.1) backpack from the pages: OAuth 2 with PKCE.

The ``state`` of each authorization begun here is also kept in the learner's session, and the
callback is answered only for a state of this session: a callback link handed to another
learner (login CSRF) cannot connect their backpack to someone else's account.
"""

from __future__ import annotations

import hmac
from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from openbackpack.services import (
    begin_oauth_connection,
    complete_oauth_connection,
    site_settings,
)
from openbackpack.web._context import WebUser, web_of
from openbackpack.web._render import redirect, render
from openbackpack.web._security import require_user

__all__ = ["begin", "callback_url", "routes"]

_STATES: Final = "oauth_states"
_KEPT: Final = 5  # a few tabs at once; older ones have expired at the host side anyway


def callback_url(request: Request, site_url: str) -> str:
    """The address the backpack sends the browser back to, on the site's public URL.

    ``site_url`` (the site setting) replaces the scheme, host and port the request came to,
    and is put before the callback's path (which carries the prefix the pages are mounted
    under): behind a proxy, the address the backpack is given is the public one, not the
    one the server sees. Unset, the request's own address is used.
    """
    own = request.url_for("oauth_callback")
    if not site_url:
        return str(own)
    return site_url.rstrip("/") + own.path


async def begin(request: Request, user: WebUser, provider_id: int) -> Response:
    """Start the authorization and show the link to the backpack's consent page.

    A page with a link, not a redirect: the pages' CSP (``form-action 'self'``) forbids a
    form answered by a redirect to another origin, and it stays so.
    """
    web = web_of(request)

    def start() -> tuple[str, str]:
        callback = callback_url(request, site_settings(web.store).site_url)
        return begin_oauth_connection(
            web.store, user.id, provider_id, callback, email=user.email,
            client=web.settings.client,
        )  # fmt: skip

    url, state = await run_in_threadpool(start)
    kept = [s for s in request.session.get(_STATES, []) if isinstance(s, str)]
    request.session[_STATES] = [*kept, state][-_KEPT:]
    return render(request, "oauth_continue.html", authorization_url=url)


def _take_state(request: Request, state: str) -> bool:
    kept = [s for s in request.session.get(_STATES, []) if isinstance(s, str)]
    # Constant time per comparison; every kept state is compared, found or not.
    matches = [hmac.compare_digest(s.encode(), state.encode()) for s in kept]
    if not any(matches):
        return False
    request.session[_STATES] = [s for s, hit in zip(kept, matches, strict=True) if not hit]
    return True


async def callback(request: Request) -> Response:
    """Where the backpack sends the browser back: finish the connection, then the badges."""
    user = require_user(request)
    web = web_of(request)
    query = request.query_params
    state = query.get("state", "")
    if not state or not _take_state(request, state):
        raise HTTPException(400, web.gettext("This sign-in link is not yours or has expired."))
    account = await run_in_threadpool(
        lambda: complete_oauth_connection(
            web.store, state, query.get("code"), error=query.get("error"),
            error_description=query.get("error_description"), client=web.settings.client,
        )
    )  # fmt: skip
    if account.owner != user.id:
        raise HTTPException(404)
    # Badge Connect has no collections to choose: every badge of the account is shown.
    return redirect(request, "badges")


def routes() -> list[BaseRoute]:
    """The OAuth callback route."""
    return [Route("/oauth/callback", callback, name="oauth_callback")]
