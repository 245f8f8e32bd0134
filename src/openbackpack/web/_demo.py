"""The demo login of ``openbackpack web serve --demo-login``: log in as any user id.

Meant for trying the pages on one's own machine, never for a real site: the form is answered
only to loopback clients, and the command refuses it unless it listens on loopback.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from openbackpack.web._context import Identify, WebUser, web_of
from openbackpack.web._render import redirect, render
from openbackpack.web._security import check_csrf

__all__ = ["demo_identify", "demo_identify_with", "demo_routes", "is_loopback"]

_USER, _ADMIN = "demo_user", "demo_admin"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is a loopback address."""
    if host.strip("[]").casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def demo_identify(request: Request) -> WebUser | None:
    """The user the demo login form chose, kept in the signed session."""
    user = request.session.get(_USER)
    if not isinstance(user, str):
        return None
    return WebUser(user, is_admin=request.session.get(_ADMIN) is True)


def demo_identify_with(emails: Mapping[str, str]) -> Identify:
    """Like :func:`demo_identify`, giving the demo users in ``emails`` their email address.

    The pages list a learner's own awards by email: with it, the demo learner sees the award
    made to them before connecting any backpack.
    """

    def identify(request: Request) -> WebUser | None:
        user = demo_identify(request)
        if user is None or user.id not in emails:
            return user
        return WebUser(user.id, is_admin=user.is_admin, email=emails[user.id])

    return identify


def _refuse_remote(request: Request) -> None:
    if request.client is None or not is_loopback(request.client.host):
        raise HTTPException(
            403, web_of(request).gettext("The demo login is for this machine only.")
        )


async def login_form(request: Request) -> Response:
    """The demo login form: any user id, admin or not."""
    _refuse_remote(request)
    return render(request, "demo_login.html")


async def login(request: Request) -> Response:
    """Log in as the user id typed in the form."""
    _refuse_remote(request)
    await check_csrf(request)
    form = await request.form()
    user = form.get("user")
    if not isinstance(user, str) or not user.strip():
        raise HTTPException(400, web_of(request).gettext("Type a user id."))
    request.session[_USER] = user.strip()
    request.session[_ADMIN] = form.get("admin") == "yes"
    return redirect(request, "home")


async def logout(request: Request) -> Response:
    """Forget the demo user."""
    await check_csrf(request)
    request.session.pop(_USER, None)
    request.session.pop(_ADMIN, None)
    return redirect(request, "demo_login_form")


def demo_routes() -> list[BaseRoute]:
    """The demo login's routes."""
    return [
        Route("/demo-login", login_form, name="demo_login_form"),
        Route("/demo-login", login, methods=["POST"], name="demo_login"),
        Route("/demo-logout", logout, methods=["POST"], name="demo_logout"),
    ]
