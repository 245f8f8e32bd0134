"""Badgr's v2 REST API (Canvas Credentials): every route, as data.

The reference host mounts these routes and the client builds its requests from them, so
the two cannot drift. Paths are relative to the provider's API URL (``…/v2``), except those
with ``base=Base.ROOT`` (the token endpoint and the public Open Badges pages), which Badgr
serves at the origin. Wire details: ``badgr-wire.md`` §1-§6.
"""

from __future__ import annotations

from typing import Final, Literal

from openbackpack.protocols._endpoint import Base, Body, Endpoint, Shape, api_root

__all__ = [
    "EXPAND_BADGECLASS_AND_ISSUER",
    "ROUTES",
    "public_url",
    "route",
]

EXPAND_BADGECLASS_AND_ISSUER: Final = (("expand", "badgeclass"), ("expand", "issuer"))
"""The query that makes Badgr embed the badge class, and its issuer, in an assertion."""


def _r(
    name: str,
    method: Literal["GET", "POST", "PUT", "DELETE"],
    path: str,
    summary: str,
    **options: object,
) -> Endpoint:
    body = Body.JSON if method in ("POST", "PUT") else Body.NONE
    success = 201 if method == "POST" else 204 if method == "DELETE" else 200
    settings: dict[str, object] = {"body": body, "success": success, **options}
    if settings["success"] == 204:
        settings.setdefault("shape", Shape.EMPTY)
    return Endpoint(name=name, method=method, path=path, summary=summary, **settings)  # type: ignore[arg-type]


_ROUTES: tuple[Endpoint, ...] = (
    # §1 authentication
    Endpoint(
        name="token",
        method="POST",
        path="/o/token",
        base=Base.ROOT,
        body=Body.FORM,
        auth=False,
        shape=Shape.TOKEN,
        summary="Password or refresh-token grant",
    ),
    # §4.1 issuers
    _r("issuers.list", "GET", "/issuers", "List the account's issuers", many=True),
    _r("issuers.create", "POST", "/issuers", "Create an issuer"),
    _r("issuers.get", "GET", "/issuers/{issuer}", "Get an issuer"),
    _r("issuers.update", "PUT", "/issuers/{issuer}", "Update an issuer"),
    _r("issuers.delete", "DELETE", "/issuers/{issuer}", "Delete an issuer with no awards"),
    # §4.2 badge classes
    _r("badgeclasses.list", "GET", "/badgeclasses", "List badge classes", many=True, paged=True),
    _r("badgeclasses.create", "POST", "/badgeclasses", "Create a badge class (issuer in body)"),
    _r(
        "issuer.badgeclasses.list",
        "GET",
        "/issuers/{issuer}/badgeclasses",
        "List an issuer's badge classes",
        many=True,
        paged=True,
    ),
    _r(
        "issuer.badgeclasses.create",
        "POST",
        "/issuers/{issuer}/badgeclasses",
        "Create a badge class under an issuer",
    ),
    _r("badgeclasses.get", "GET", "/badgeclasses/{badgeclass}", "Get a badge class"),
    _r("badgeclasses.update", "PUT", "/badgeclasses/{badgeclass}", "Update a badge class"),
    _r(
        "badgeclasses.delete",
        "DELETE",
        "/badgeclasses/{badgeclass}",
        "Delete a badge class with no live awards",
    ),
    # §4.3 assertions
    _r(
        "badgeclass.assertions.list",
        "GET",
        "/badgeclasses/{badgeclass}/assertions",
        "List a badge class's awards",
        many=True,
        paged=True,
    ),
    _r(
        "badgeclass.assertions.create",
        "POST",
        "/badgeclasses/{badgeclass}/assertions",
        "Award a badge class",
    ),
    _r(
        "badgeclass.issue",
        "POST",
        "/badgeclasses/{badgeclass}/issue",
        "Award a badge class to many recipients",
        many=True,
    ),
    _r(
        "issuer.assertions.list",
        "GET",
        "/issuers/{issuer}/assertions",
        "List an issuer's awards",
        many=True,
        paged=True,
    ),
    _r(
        "issuer.assertions.create",
        "POST",
        "/issuers/{issuer}/assertions",
        "Award a badge class named in the body",
    ),
    _r(
        "assertions.revoke_many",
        "POST",
        "/assertions/revoke",
        "Revoke many",
        success=200,
        many=True,
    ),
    _r("assertions.get", "GET", "/assertions/{assertion}", "Get an award"),
    _r("assertions.update", "PUT", "/assertions/{assertion}", "Update an award"),
    _r(
        "assertions.revoke",
        "DELETE",
        "/assertions/{assertion}",
        "Revoke an award",
        success=200,
        shape=Shape.ENVELOPE,
        body=Body.JSON,
    ),
    # §5 backpack
    _r(
        "backpack.assertions.list",
        "GET",
        "/backpack/assertions",
        "List the backpack's assertions",
        many=True,
    ),
    _r("backpack.assertions.get", "GET", "/backpack/assertions/{assertion}", "Get one"),
    _r(
        "backpack.assertions.update",
        "PUT",
        "/backpack/assertions/{assertion}",
        "Accept an assertion",
    ),
    _r(
        "backpack.assertions.delete",
        "DELETE",
        "/backpack/assertions/{assertion}",
        "Remove an assertion from the backpack",
    ),
    _r("backpack.import", "POST", "/backpack/import", "Import by url, image or assertion"),
    _r(
        "backpack.collections.list",
        "GET",
        "/backpack/collections",
        "List collections",
        many=True,
    ),
    _r("backpack.collections.create", "POST", "/backpack/collections", "Create a collection"),
    _r("backpack.collections.get", "GET", "/backpack/collections/{collection}", "Get one"),
    _r(
        "backpack.collections.update",
        "PUT",
        "/backpack/collections/{collection}",
        "Update a collection",
    ),
    _r(
        "backpack.collections.delete",
        "DELETE",
        "/backpack/collections/{collection}",
        "Delete a collection",
    ),
    # §6 public Open Badges JSON, no authentication
    *(
        Endpoint(
            name=f"public.{kind}",
            method="GET",
            path=f"/public/{kind}/{{entity}}",
            base=Base.ROOT,
            auth=False,
            shape=Shape.DOCUMENT,
            summary=f"Public Open Badges JSON of {kind}",
        )
        for kind in ("assertions", "badges", "issuers")
    ),
    # Routes that make the URLs in the documents above resolve (badgr-wire.md §5.2, §6).
    *(
        Endpoint(
            name=f"public.{kind}.image",
            method="GET",
            path=f"/public/{kind}/{{entity}}/image",
            base=Base.ROOT,
            auth=False,
            shape=Shape.IMAGE,
            summary=f"Image of public {kind} (baked for assertions)",
        )
        for kind in ("assertions", "badges", "issuers")
    ),
    Endpoint(
        name="public.issuers.badges",
        method="GET",
        path="/public/issuers/{entity}/badges",
        base=Base.ROOT,
        auth=False,
        shape=Shape.DOCUMENT,
        summary="Public Open Badges JSON of an issuer's badge classes (a bare array)",
    ),
    Endpoint(
        name="public.collections",
        method="GET",
        path="/public/collections/{share}",
        base=Base.ROOT,
        auth=False,
        shape=Shape.DOCUMENT,
        summary="A published collection (its share_url)",
    ),
    _r(
        "backpack.assertions.image",
        "GET",
        "/backpack/assertions/{assertion}/image",
        "Image of a backpack assertion",
        shape=Shape.IMAGE,
    ),
)

ROUTES: Final[dict[str, Endpoint]] = {endpoint.name: endpoint for endpoint in _ROUTES}
"""Every Badgr v2 route openbackpack speaks, by name."""


def route(name: str) -> Endpoint:
    """Return the route called ``name``. Raises ``KeyError`` for an unknown name."""
    return ROUTES[name]


PublicKind = Literal["assertions", "badges", "issuers"]


def public_url(api_url: str, kind: PublicKind, entity_id: str) -> str:
    """Return Badgr's public URL of an entity (Moodle's ``badges_generate_badgr_open_url``).

    ``public_url("https://api.ca.badgr.io/v2", "assertions", "123455")`` is
    ``https://api.ca.badgr.io/public/assertions/123455``. Unlike Moodle, a port and a path
    prefix in the API URL are kept, and the id is percent-encoded.
    """
    endpoint = ROUTES[f"public.{kind}"]
    return api_root(api_url) + endpoint.render_path({"entity": entity_id})
