"""The admin's pages: the site backpacks (primary first) and the site settings.

Every route starts with :func:`require_admin`: anyone else gets 403, whatever they send.
"""

from __future__ import annotations

from dataclasses import asdict

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from openbackpack.models import ApiVersion
from openbackpack.services import (
    SETTING_KEYS,
    add_backpack,
    check_backpack_connection,
    edit_backpack,
    list_backpacks,
    move_backpack,
    remove_backpack,
    set_site_setting,
    site_settings,
)
from openbackpack.web._context import web_of
from openbackpack.web._render import redirect, render
from openbackpack.web._security import check_csrf, require_admin

__all__ = ["routes"]

_VERSIONS = [version.value for version in ApiVersion]


def _provider_id(request: Request) -> int:
    value = request.path_params["provider_id"]
    assert isinstance(value, int)
    return value


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v.strip() for k, v in form.items() if isinstance(v, str)}


async def backpacks(request: Request) -> Response:
    """The site backpacks, primary first, each with edit, move, test and delete."""
    require_admin(request)
    listed = await run_in_threadpool(list_backpacks, web_of(request).store)
    return render(request, "admin_backpacks.html", backpacks=listed)


async def new_form(request: Request) -> Response:
    """The form for a new site backpack."""
    require_admin(request)
    return render(request, "admin_backpack_form.html", backpack=None, versions=_VERSIONS)


async def create(request: Request) -> Response:
    """Add a site backpack (the site's own login only for v2, where it pushes awards)."""
    require_admin(request)
    await check_csrf(request)
    form, store = await _fields(request), web_of(request).store
    await run_in_threadpool(
        lambda: add_backpack(
            store, form.get("api_url", ""), form.get("web_url", ""), form.get("api_version", ""),
            email=form.get("email") or None, password=form.get("password") or None,
        )
    )  # fmt: skip
    return redirect(request, "admin_backpacks")


async def edit_form(request: Request) -> Response:
    """The form for an existing site backpack (the password is never shown)."""
    require_admin(request)
    store, provider_id = web_of(request).store, _provider_id(request)
    listed = await run_in_threadpool(list_backpacks, store)
    backpack = next((b for b in listed if b.id == provider_id), None)
    if backpack is None:
        return render(request, "error.html", 404, message=web_of(request).gettext("Not found."))
    return render(request, "admin_backpack_form.html", backpack=backpack, versions=_VERSIONS)


async def edit(request: Request) -> Response:
    """Save a site backpack; an empty password keeps the stored one."""
    require_admin(request)
    await check_csrf(request)
    form, store, provider_id = await _fields(request), web_of(request).store, _provider_id(request)
    await run_in_threadpool(
        lambda: edit_backpack(
            store, provider_id, api_url=form.get("api_url") or None,
            web_url=form.get("web_url") or None, api_version=form.get("api_version") or None,
            email=form.get("email") or None, password=form.get("password") or None,
        )
    )  # fmt: skip
    return redirect(request, "admin_backpacks")


async def delete(request: Request) -> Response:
    """Delete a site backpack (the store refuses the primary one)."""
    require_admin(request)
    await check_csrf(request)
    await run_in_threadpool(remove_backpack, web_of(request).store, _provider_id(request))
    return redirect(request, "admin_backpacks")


async def move(request: Request) -> Response:
    """Move a site backpack up (towards primary) or down."""
    require_admin(request)
    await check_csrf(request)
    direction = (await _fields(request)).get("direction", "")
    await run_in_threadpool(move_backpack, web_of(request).store, _provider_id(request), direction)
    return redirect(request, "admin_backpacks")


async def test(request: Request) -> Response:
    """Try the backpack's connection and show the result."""
    require_admin(request)
    await check_csrf(request)
    web, provider_id = web_of(request), _provider_id(request)
    result = await run_in_threadpool(
        lambda: check_backpack_connection(web.store, provider_id, client=web.settings.client)
    )
    return render(request, "admin_test.html", provider_id=provider_id, result=result)


async def settings_form(request: Request) -> Response:
    """The site settings form."""
    require_admin(request)
    current = await run_in_threadpool(site_settings, web_of(request).store)
    return render(request, "admin_settings.html", settings=asdict(current), saved=False)


async def save_settings(request: Request) -> Response:
    """Save the settings that changed; a bad value is refused with its reason."""
    require_admin(request)
    await check_csrf(request)
    form, store = await _fields(request), web_of(request).store
    values = {key: form.get(key, "") for key in SETTING_KEYS}
    # An unticked checkbox is absent from the form.
    values["allow_external_backpacks"] = "true" if "allow_external_backpacks" in form else "false"

    def save() -> None:
        # Only what changed: an untouched field is never re-checked or rewritten.
        current = asdict(site_settings(store))
        for key, value in values.items():
            old = current[key]
            if (str(old).lower() if isinstance(old, bool) else str(old)) != value:
                set_site_setting(store, key, value)

    await run_in_threadpool(save)
    current = await run_in_threadpool(site_settings, store)
    return render(request, "admin_settings.html", settings=asdict(current), saved=True)


def routes() -> list[BaseRoute]:
    """The admin's routes."""
    base = "/admin/backpacks/{provider_id:int}"
    return [
        Route("/admin/backpacks", backpacks, name="admin_backpacks"),
        Route("/admin/backpacks/new", new_form, name="admin_new"),
        Route("/admin/backpacks/new", create, methods=["POST"], name="admin_create"),
        Route(base, edit_form, name="admin_edit_form"),
        Route(base, edit, methods=["POST"], name="admin_edit"),
        Route(base + "/delete", delete, methods=["POST"], name="admin_delete"),
        Route(base + "/move", move, methods=["POST"], name="admin_move"),
        Route(base + "/test", test, methods=["POST"], name="admin_test"),
        Route("/admin/settings", settings_form, name="admin_settings"),
        Route("/admin/settings", save_settings, methods=["POST"], name="admin_save_settings"),
    ]
