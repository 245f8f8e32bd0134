"""Moodle's ``backpack_api_mapping`` table: which action runs which route, in which mode.

Each row keeps the columns of Moodle's table (moodle-backpack.md §3.3): action, route
(URL template and method), request body, response mapping, single or list, and whether a
Bearer token is sent. ``define_mappings`` picks a row set by (API version, mode).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from openbackpack._exceptions import UnsupportedActionError
from openbackpack.models import ApiVersion
from openbackpack.protocols import badgr, displayer
from openbackpack.protocols._endpoint import Endpoint

__all__ = [
    "MAPPINGS",
    "Action",
    "Mapping",
    "Mode",
    "RequestKind",
    "ResultKind",
    "define_mappings",
    "find_mapping",
]


class Mode(enum.StrEnum):
    """Whose account a :class:`~openbackpack.BackpackApi` acts as."""

    SITE = "site"
    """The provider's site (issuer) account: pushes issuers, badge classes and assertions."""
    USER = "user"
    """One user's backpack account: reads collections and assertions, imports badges."""


class Action(enum.StrEnum):
    """Moodle's action names."""

    USER = "user"
    COLLECTIONS = "collections"
    GROUPS = "groups"
    BADGES = "badges"
    ASSERTION = "assertion"
    IMPORT_BADGE = "importbadge"
    ISSUERS = "issuers"
    BADGE_CLASSES = "badgeclasses"
    ASSERTIONS = "assertions"
    UPDATE_ASSERTION = "updateassertion"


class RequestKind(enum.StrEnum):
    """What a row sends (Moodle's post params and request exporter)."""

    NONE = "none"
    CREDENTIALS = "credentials"
    """Form fields ``username`` and ``password`` (Moodle's ``[EMAIL]``/``[PASSWORD]``)."""
    EMAIL = "email"
    """The form field ``email``."""
    URL = "url"
    """JSON ``{"url": ...}``."""
    ISSUER = "issuer"
    BADGE_CLASS = "badgeclass"
    ASSERTION = "assertion"


class ResultKind(enum.StrEnum):
    """How a row's response is mapped (Moodle's response exporter or handler)."""

    TOKEN = "token"
    DISPLAYER_USER = "displayer_user"
    DISPLAYER_GROUPS = "displayer_groups"
    DISPLAYER_BADGES = "displayer_badges"
    ISSUER = "issuer"
    BADGE_CLASS = "badgeclass"
    ASSERTION = "assertion"
    COLLECTION = "collection"


@dataclass(frozen=True, slots=True)
class Mapping:
    """One row of Moodle's mapping table."""

    action: Action
    endpoint: Endpoint
    request: RequestKind
    result: ResultKind
    many: bool
    query: tuple[tuple[str, str], ...] = ()

    @property
    def auth(self) -> bool:
        """Whether a Bearer token is attached."""
        return self.endpoint.auth


_V2_TOKEN = Mapping(
    Action.USER, badgr.route("token"), RequestKind.CREDENTIALS, ResultKind.TOKEN, many=False
)
_V1_USER = Mapping(
    Action.USER,
    displayer.route("convert_email"),
    RequestKind.EMAIL,
    ResultKind.DISPLAYER_USER,
    many=False,
)

MAPPINGS: Final[dict[tuple[ApiVersion, Mode], tuple[Mapping, ...]]] = {
    (ApiVersion.V2, Mode.USER): (
        Mapping(
            Action.COLLECTIONS,
            badgr.route("backpack.collections.list"),
            RequestKind.NONE,
            ResultKind.COLLECTION,
            many=True,
        ),
        _V2_TOKEN,
        Mapping(
            Action.ASSERTION,
            badgr.route("backpack.assertions.get"),
            RequestKind.NONE,
            ResultKind.ASSERTION,
            many=False,
            query=badgr.EXPAND_BADGECLASS_AND_ISSUER,
        ),
        Mapping(
            Action.IMPORT_BADGE,
            badgr.route("backpack.import"),
            RequestKind.URL,
            ResultKind.ASSERTION,
            many=False,
        ),
        Mapping(
            Action.BADGES,
            badgr.route("backpack.collections.get"),
            RequestKind.NONE,
            ResultKind.COLLECTION,
            many=True,
        ),
    ),
    (ApiVersion.V2, Mode.SITE): (
        _V2_TOKEN,
        Mapping(
            Action.ISSUERS,
            badgr.route("issuers.create"),
            RequestKind.ISSUER,
            ResultKind.ISSUER,
            many=False,
        ),
        Mapping(
            Action.BADGE_CLASSES,
            badgr.route("issuer.badgeclasses.create"),
            RequestKind.BADGE_CLASS,
            ResultKind.BADGE_CLASS,
            many=False,
        ),
        Mapping(
            Action.ASSERTIONS,
            badgr.route("badgeclass.assertions.create"),
            RequestKind.ASSERTION,
            ResultKind.ASSERTION,
            many=False,
        ),
        Mapping(
            Action.UPDATE_ASSERTION,
            badgr.route("assertions.update"),
            RequestKind.ASSERTION,
            ResultKind.ASSERTION,
            many=False,
            query=badgr.EXPAND_BADGECLASS_AND_ISSUER,
        ),
    ),
    (ApiVersion.V1, Mode.USER): (
        _V1_USER,
        Mapping(
            Action.GROUPS,
            displayer.route("groups"),
            RequestKind.NONE,
            ResultKind.DISPLAYER_GROUPS,
            many=True,
        ),
        Mapping(
            Action.BADGES,
            displayer.route("group"),
            RequestKind.NONE,
            ResultKind.DISPLAYER_BADGES,
            many=True,
        ),
    ),
    (ApiVersion.V1, Mode.SITE): (_V1_USER,),
}
"""Moodle 4.1's table, by (API version, mode). Badge Connect (2.1) has its own client."""


def define_mappings(version: ApiVersion, mode: Mode) -> tuple[Mapping, ...]:
    """Return the rows for one (version, mode).

    A 2.1 (Badge Connect) provider raises :class:`UnsupportedActionError`: Moodle 4.1 fell
    into the v1 rows here and posted the user's email to a Displayer URL (W14).
    """
    rows = MAPPINGS.get((version, mode))
    if rows is None:
        raise UnsupportedActionError(
            "Badgr/Displayer actions",
            version.value,
            mode.value,
            message=f"a Badge Connect (API version {version.value}) backpack has no "
            "collections, groups or site account: it offers only the learner's badges "
            "and adding one",
        )
    return rows


def find_mapping(version: ApiVersion, mode: Mode, action: Action | str) -> Mapping:
    """Return the row for one action, raising :class:`UnsupportedActionError` if it has none."""
    for row in define_mappings(version, mode):
        if row.action == action:
            return row
    raise UnsupportedActionError(str(action), version.value, mode.value)
