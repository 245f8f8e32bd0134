"""Moodle's action table (moodle-backpack.md §3.3), row by row."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from openbackpack import UnsupportedActionError
from openbackpack.models import ApiVersion
from openbackpack.protocols import (
    MAPPINGS,
    Action,
    Base,
    Body,
    Mode,
    RequestKind,
    ResultKind,
    api_root,
    build_url,
    define_mappings,
    find_mapping,
)

API = "https://api.example.org/v2"
PARAM1 = "P1-collection"
PARAM2 = "P2-entity"


@dataclass(frozen=True)
class Row:
    """One row of §3.3 as Moodle wrote it."""

    version: ApiVersion
    mode: Mode
    action: Action
    template: str
    method: str
    request: RequestKind
    result: ResultKind
    many: bool
    body: Body
    auth: bool


V2, V1 = ApiVersion.V2, ApiVersion.V1
USER, SITE = Mode.USER, Mode.SITE
EXPAND = "?expand=badgeclass&expand=issuer"

TOKEN_ROW = dict(
    action=Action.USER,
    template="[SCHEME]://[HOST]/o/token",
    method="POST",
    request=RequestKind.CREDENTIALS,
    result=ResultKind.TOKEN,
    many=False,
    body=Body.FORM,
    auth=False,
)
EMAIL_ROW = dict(
    action=Action.USER,
    template="[URL]/displayer/convert/email",
    method="POST",
    request=RequestKind.EMAIL,
    result=ResultKind.DISPLAYER_USER,
    many=False,
    body=Body.FORM,
    auth=False,
)

ROWS = [
    # OBv2, user mode
    Row(V2, USER, Action.COLLECTIONS, "[URL]/backpack/collections", "GET",
        RequestKind.NONE, ResultKind.COLLECTION, True, Body.NONE, True),
    Row(V2, USER, **TOKEN_ROW),  # type: ignore[arg-type]
    Row(V2, USER, Action.ASSERTION, f"[URL]/backpack/assertions/[PARAM2]{EXPAND}", "GET",
        RequestKind.NONE, ResultKind.ASSERTION, False, Body.NONE, True),
    Row(V2, USER, Action.IMPORT_BADGE, "[URL]/backpack/import", "POST",
        RequestKind.URL, ResultKind.ASSERTION, False, Body.JSON, True),
    Row(V2, USER, Action.BADGES, "[URL]/backpack/collections/[PARAM1]", "GET",
        RequestKind.NONE, ResultKind.COLLECTION, True, Body.NONE, True),
    # OBv2, site mode
    Row(V2, SITE, **TOKEN_ROW),  # type: ignore[arg-type]
    Row(V2, SITE, Action.ISSUERS, "[URL]/issuers", "POST",
        RequestKind.ISSUER, ResultKind.ISSUER, False, Body.JSON, True),
    Row(V2, SITE, Action.BADGE_CLASSES, "[URL]/issuers/[PARAM2]/badgeclasses", "POST",
        RequestKind.BADGE_CLASS, ResultKind.BADGE_CLASS, False, Body.JSON, True),
    Row(V2, SITE, Action.ASSERTIONS, "[URL]/badgeclasses/[PARAM2]/assertions", "POST",
        RequestKind.ASSERTION, ResultKind.ASSERTION, False, Body.JSON, True),
    Row(V2, SITE, Action.UPDATE_ASSERTION, f"[URL]/assertions/[PARAM2]{EXPAND}", "PUT",
        RequestKind.ASSERTION, ResultKind.ASSERTION, False, Body.JSON, True),
    # OBv1, user mode ([PARAM1] of groups and [PARAM2] of badges are the Displayer userId)
    Row(V1, USER, **EMAIL_ROW),  # type: ignore[arg-type]
    Row(V1, USER, Action.GROUPS, "[URL]/displayer/[PARAM1]/groups.json", "GET",
        RequestKind.NONE, ResultKind.DISPLAYER_GROUPS, True, Body.NONE, False),
    Row(V1, USER, Action.BADGES, "[URL]/displayer/[PARAM2]/group/[PARAM1].json", "GET",
        RequestKind.NONE, ResultKind.DISPLAYER_BADGES, True, Body.NONE, False),
    # OBv1, site mode: the lookup only
    Row(V1, SITE, **EMAIL_ROW),  # type: ignore[arg-type]
]  # fmt: skip


def _row_id(row: Row) -> str:
    return f"v{row.version.value}-{row.mode.value}-{row.action.value}"


def _moodle_url(row: Row) -> str:
    """Expand Moodle's placeholders the way §3.2 describes, minus its W7 bug."""
    param1, param2 = PARAM1, PARAM2
    if row.action is Action.GROUPS:
        param1 = "4242"  # the userId
    if row.version is V1 and row.action is Action.BADGES:
        param1, param2 = PARAM1, "4242"
    return (
        row.template.replace("[SCHEME]://[HOST]", api_root(API))
        .replace("[URL]", API)
        .replace("[PARAM1]", param1)
        .replace("[PARAM2]", param2)
    )


def _params(row: Row) -> dict[str, str | int]:
    mapping = find_mapping(row.version, row.mode, row.action)
    values: dict[str, str | int] = {}
    for name in mapping.endpoint.path_params:
        if name == "user":
            values[name] = 4242
        elif name in ("collection", "group"):
            values[name] = PARAM1
        else:
            values[name] = PARAM2
    return values


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_each_row_matches_moodle(row: Row) -> None:
    """Each row keeps Moodle's method, URL, body, response mapping, multiplicity and auth."""
    mapping = find_mapping(row.version, row.mode, row.action)
    endpoint = mapping.endpoint
    assert endpoint.method == row.method
    assert build_url(endpoint, API, _params(row), mapping.query) == _moodle_url(row)
    assert mapping.request is row.request
    assert mapping.result is row.result
    assert mapping.many is row.many
    assert endpoint.body is row.body
    assert mapping.auth is row.auth


@pytest.mark.parametrize("key", list(MAPPINGS), ids=lambda k: f"v{k[0].value}-{k[1].value}")
def test_each_table_has_exactly_moodles_actions(key: tuple[ApiVersion, Mode]) -> None:
    """No (version, mode) has an action Moodle's table lacks, nor lacks one it has."""
    expected = sorted(r.action.value for r in ROWS if (r.version, r.mode) == key)
    assert sorted(m.action.value for m in define_mappings(*key)) == expected


def test_the_token_row_lives_at_the_api_root() -> None:
    """The password grant is relative to the API root, not the versioned API URL."""
    assert find_mapping(V2, USER, Action.USER).endpoint.base is Base.ROOT


def test_badge_connect_never_falls_into_the_v1_rows() -> None:
    """A 2.1 provider raises UnsupportedActionError instead of getting the Displayer rows (W14)."""
    for mode in Mode:
        with pytest.raises(UnsupportedActionError, match=r"2\.1"):
            define_mappings(ApiVersion.V2P1, mode)


@pytest.mark.parametrize(
    ("version", "mode", "action"),
    [
        pytest.param(V1, USER, Action.ASSERTION, id="v1-has-no-assertion"),
        pytest.param(V1, SITE, Action.ISSUERS, id="v1-cannot-issue"),
        pytest.param(V2, USER, Action.ISSUERS, id="v2-user-cannot-issue"),
        pytest.param(V2, SITE, Action.COLLECTIONS, id="v2-site-has-no-collections"),
        pytest.param(V2, SITE, Action.IMPORT_BADGE, id="v2-site-cannot-import"),
    ],
)
def test_missing_actions_are_refused(version: ApiVersion, mode: Mode, action: Action) -> None:
    """An action outside a (version, mode) table raises UnsupportedActionError naming it."""
    with pytest.raises(UnsupportedActionError) as caught:
        find_mapping(version, mode, action)
    assert caught.value.action == action.value
    assert caught.value.api_version == version.value
