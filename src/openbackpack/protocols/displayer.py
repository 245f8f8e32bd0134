"""The Mozilla Backpack Displayer API (Open Badges 1.x, "v1"), as data.

Read-only: look a user up by email, list their public groups, list a group's badges. Paths are
relative to the backpack's URL. Wire details: ``badgr-wire.md`` §8.
"""

from __future__ import annotations

from typing import Final

from openbackpack.protocols._endpoint import Body, Endpoint, Shape

__all__ = ["ROUTES", "route"]

_ROUTES: tuple[Endpoint, ...] = (
    Endpoint(
        name="convert_email",
        method="POST",
        path="/displayer/convert/email",
        body=Body.FORM,
        auth=False,
        shape=Shape.DOCUMENT,
        summary="Look up a user id by email",
    ),
    Endpoint(
        name="groups",
        method="GET",
        path="/displayer/{user}/groups.json",
        auth=False,
        shape=Shape.DOCUMENT,
        summary="List a user's public groups",
    ),
    Endpoint(
        name="group",
        method="GET",
        path="/displayer/{user}/group/{group}.json",
        auth=False,
        shape=Shape.DOCUMENT,
        summary="List the badges in a public group",
    ),
)

ROUTES: Final[dict[str, Endpoint]] = {endpoint.name: endpoint for endpoint in _ROUTES}
"""Every Displayer route, by name."""


def route(name: str) -> Endpoint:
    """Return the route called ``name``. Raises ``KeyError`` for an unknown name."""
    return ROUTES[name]
