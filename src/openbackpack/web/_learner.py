"""The learner's pages: backpacks on offer, connecting, collections, badges, awards.

Every action takes the owner from the platform's ``identify`` hook, never from the form or the
URL, so ids edited by hand can only ever name the learner's own accounts (the services answer
"not connected" for anyone else's, shown as 404).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from openbackpack._exceptions import BackpackError
from openbackpack.models import ApiVersion
from openbackpack.services import (
    cancel_connection,
    disconnect,
    external_badges,
    list_backpacks,
    list_collections,
    push_award,
    resend_verification,
    select_collections,
    start_connection,
    verify_connection,
)
from openbackpack.store import Award, Store
from openbackpack.web._context import web_of
from openbackpack.web._images import image_links
from openbackpack.web._oauth import begin as begin_oauth
from openbackpack.web._render import redirect, render
from openbackpack.web._security import check_csrf, require_user

__all__ = ["OwnAward", "own_awards", "routes"]


def _provider_id(request: Request) -> int:
    value = request.path_params["provider_id"]
    assert isinstance(value, int)
    return value


async def _field(request: Request, name: str) -> str:
    value = (await request.form()).get(name)
    return value.strip() if isinstance(value, str) else ""


async def home(request: Request) -> Response:
    """The site backpacks on offer, and the learner's connections and pending codes."""
    user = require_user(request)
    store = web_of(request).store

    def read() -> dict[str, Any]:
        offered = list_backpacks(store)
        with store.transaction() as tx:
            accounts = tx.accounts.list(owner=user.id)
            pending = tx.verifications.find(user.id)
        # Only Displayer (v1) and Badgr (v2) backpacks have collections to choose.
        with_collections = {
            b.id for b in offered if b.provider.api_version in (ApiVersion.V1, ApiVersion.V2)
        }
        return {
            "backpacks": offered, "accounts": accounts, "pending": pending,
            "with_collections": with_collections,
        }  # fmt: skip

    return render(request, "home.html", **await run_in_threadpool(read))


def _offered(store: Store, provider_id: int) -> Any:
    for backpack in list_backpacks(store):
        if backpack.id == provider_id:
            return backpack
    raise HTTPException(404)


async def connect_form(request: Request) -> Response:
    """The connect form: email and password (v2), email only (v1)."""
    require_user(request)
    backpack = await run_in_threadpool(_offered, web_of(request).store, _provider_id(request))
    return render(request, "connect.html", backpack=backpack, V1=ApiVersion.V1, V2=ApiVersion.V2)


async def connect(request: Request) -> Response:
    """Check the login at the backpack and mail the code; then the code page."""
    user = require_user(request)
    await check_csrf(request)
    web, provider_id = web_of(request), _provider_id(request)
    backpack = await run_in_threadpool(_offered, web.store, provider_id)
    if backpack.provider.api_version.uses_oauth:
        return await begin_oauth(request, user, provider_id)
    email, password = await _field(request, "email"), await _field(request, "password")
    if backpack.provider.api_version is ApiVersion.V1:
        password = ""  # the Displayer API knows only the email address
    verify_url = str(request.url_for("verify_form", provider_id=provider_id)) + "?code=$code"
    await run_in_threadpool(
        lambda: start_connection(
            web.store, user.id, provider_id, email, password, mailer=web.settings.mailer,
            sender=web.settings.sender, client=web.settings.client, verify_url=verify_url,
        )
    )  # fmt: skip
    return redirect(request, "verify_form", provider_id=provider_id)


async def verify_form(request: Request) -> Response:
    """The code page: enter the mailed code, have it sent again, or cancel."""
    user = require_user(request)
    store, provider_id = web_of(request).store, _provider_id(request)

    def read() -> Any:
        with store.transaction() as tx:
            return tx.verifications.find(user.id, provider_id)

    pending = await run_in_threadpool(read)
    if not pending:
        raise HTTPException(404)
    code = request.query_params.get("code", "")
    return render(request, "verify.html", pending=pending[0], code=code)


async def verify(request: Request) -> Response:
    """Check the code; the account is stored and the learner chooses collections."""
    user = require_user(request)
    await check_csrf(request)
    web, provider_id = web_of(request), _provider_id(request)
    code = await _field(request, "code")
    await run_in_threadpool(
        lambda: verify_connection(
            web.store, user.id, code, provider_id=provider_id, client=web.settings.client
        )
    )
    return redirect(request, "collections_form", provider_id=provider_id)


async def resend(request: Request) -> Response:
    """Mail a new code (the old one stops working)."""
    user = require_user(request)
    await check_csrf(request)
    web, provider_id = web_of(request), _provider_id(request)
    verify_url = str(request.url_for("verify_form", provider_id=provider_id)) + "?code=$code"
    await run_in_threadpool(
        lambda: resend_verification(
            web.store, user.id, provider_id, mailer=web.settings.mailer,
            sender=web.settings.sender, verify_url=verify_url,
        )
    )  # fmt: skip
    return redirect(request, "verify_form", provider_id=provider_id)


async def cancel(request: Request) -> Response:
    """Drop the pending connection."""
    user = require_user(request)
    await check_csrf(request)
    store, provider_id = web_of(request).store, _provider_id(request)
    await run_in_threadpool(cancel_connection, store, user.id, provider_id)
    return redirect(request, "home")


async def collections_form(request: Request) -> Response:
    """The learner's published collections on one backpack, with the chosen ones ticked."""
    user = require_user(request)
    web, provider_id = web_of(request), _provider_id(request)
    choices = await run_in_threadpool(
        lambda: list_collections(web.store, user.id, provider_id, client=web.settings.client)
    )
    return render(request, "collections.html", provider_id=provider_id, choices=choices)


async def collections(request: Request) -> Response:
    """Save the chosen collections; then the badges."""
    user = require_user(request)
    await check_csrf(request)
    web, provider_id = web_of(request), _provider_id(request)
    form = await request.form()
    chosen = [v for v in form.getlist("collection") if isinstance(v, str)]
    # The form carries text; v1 group ids are numbers, which the service expects as such.
    ids: list[int | str] = [int(v) if v.isdigit() else v for v in chosen]
    await run_in_threadpool(
        lambda: select_collections(web.store, user.id, ids, provider_id, client=web.settings.client)
    )
    return redirect(request, "badges")


async def badges(request: Request) -> Response:
    """The learner's external badges, with stale or failed reads said plainly."""
    user = require_user(request)
    web = web_of(request)
    found = await run_in_threadpool(
        lambda: external_badges(web.store, user.id, client=web.settings.client)
    )
    # Each image's link made here, once, rather than by a call per badge in the template.
    link = image_links(request)
    images = {badge.image: link(badge.image) for badge in found.badges}
    # The same badges with the same links are the same HTML: render the list once and keep
    # it under a digest of all it shows (the badges as stored, and every link).
    key = web.fragments.digest(
        "_badge_list.html",
        found.model_dump_json(include={"badges"}),
        json.dumps(images, sort_keys=True),
    )
    badge_list = web.fragments.get_or_render(
        key,
        lambda: web.templates.get_template("_badge_list.html").render(found=found, images=images),
    )
    return render(request, "badges.html", found=found, images=images, badge_list=badge_list)


@dataclass(frozen=True)
class OwnAward:
    """An award of this site's registry made to the learner, with its badge's name."""

    award: Award
    badge_name: str


def own_awards(store: Store, owner: str, email: str | None) -> list[OwnAward]:
    """The unrevoked awards of this site made to the learner's email or their accounts'."""
    with store.transaction() as tx:
        emails = {account.email.casefold() for account in tx.accounts.list(owner=owner)}
        if email:
            emails.add(email.casefold())
        mine = [a for a in tx.awards.list(revoked=False) if a.recipient_email.casefold() in emails]
        return [OwnAward(a, tx.badge_classes.get(a.badge_class_id).name) for a in mine]


async def awards(request: Request) -> Response:
    """The learner's own awards from this site, each with "Add to backpack"."""
    user = require_user(request)
    mine = await run_in_threadpool(own_awards, web_of(request).store, user.id, user.email)
    return render(request, "awards.html", awards=mine)


async def add_award(request: Request) -> Response:
    """Put one of the learner's awards into their backpack and show how it went."""
    user = require_user(request)
    await check_csrf(request)
    web = web_of(request)
    award_hash = request.path_params["award_hash"]
    mine = await run_in_threadpool(own_awards, web.store, user.id, user.email)
    found = [item for item in mine if item.award.hash == award_hash]
    if not found:
        raise HTTPException(404)
    try:
        result = await run_in_threadpool(
            lambda: push_award(
                web.store, user.id, award_hash, issuer_base_url=web.settings.issuer_base_url,
                client=web.settings.client,
            )
        )  # fmt: skip
    except BackpackError as error:
        # The result of this award, said on its own page, rather than a generic error page.
        return render(request, "added.html", 400, item=found[0], result=None, error=str(error))
    return render(request, "added.html", item=found[0], result=result, error=None)


async def disconnect_account(request: Request) -> Response:
    """Disconnect the learner's account on one backpack (their others stay)."""
    user = require_user(request)
    await check_csrf(request)
    web, provider_id = web_of(request), _provider_id(request)
    await run_in_threadpool(
        lambda: disconnect(
            web.store, user.id, provider_id, acting_user=user.id, client=web.settings.client
        )
    )
    return redirect(request, "home")


def routes() -> list[BaseRoute]:
    """The learner's routes."""
    return [
        Route("/", home, name="home"),
        Route("/connect/{provider_id:int}", connect_form, name="connect_form"),
        Route("/connect/{provider_id:int}", connect, methods=["POST"], name="connect"),
        Route("/verify/{provider_id:int}", verify_form, name="verify_form"),
        Route("/verify/{provider_id:int}", verify, methods=["POST"], name="verify"),
        Route("/verify/{provider_id:int}/resend", resend, methods=["POST"], name="resend"),
        Route("/verify/{provider_id:int}/cancel", cancel, methods=["POST"], name="cancel"),
        Route("/backpacks/{provider_id:int}/collections", collections_form,
              name="collections_form"),
        Route("/backpacks/{provider_id:int}/collections", collections, methods=["POST"],
              name="collections"),
        Route("/backpacks/{provider_id:int}/disconnect", disconnect_account, methods=["POST"],
              name="disconnect"),
        Route("/badges", badges, name="badges"),
        Route("/awards", awards, name="awards"),
        Route("/awards/{award_hash}/add", add_award, methods=["POST"], name="add_award"),
    ]  # fmt: skip
