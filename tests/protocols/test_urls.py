"""URL building: the API root keeps ports and prefixes (W7), slashes and encoding are right."""

from __future__ import annotations

import pytest

from openbackpack.protocols import Endpoint, api_root, badgr, build_url, displayer


@pytest.mark.parametrize(
    ("api_url", "root"),
    [
        pytest.param("https://api.badgr.io/v2", "https://api.badgr.io", id="plain"),
        pytest.param("https://api.badgr.io/v2/", "https://api.badgr.io", id="trailing-slash"),
        pytest.param("http://127.0.0.1:8000/v2", "http://127.0.0.1:8000", id="port"),
        pytest.param("http://127.0.0.1:8000/badgr/v2", "http://127.0.0.1:8000/badgr", id="prefix"),
        pytest.param("https://x.example/ims/ob/v2p1", "https://x.example/ims/ob", id="v2p1"),
        pytest.param("https://x.example/api", "https://x.example/api", id="no-version"),
        pytest.param("  https://x.example/V2  ", "https://x.example", id="spaces-and-case"),
    ],
)
def test_api_root_drops_only_the_version_segment(api_url: str, root: str) -> None:
    """The root is the API URL minus its final version segment; port and prefix stay."""
    assert api_root(api_url) == root


@pytest.mark.parametrize(
    ("api_url", "expected"),
    [
        pytest.param("https://api.badgr.io/v2", "https://api.badgr.io/o/token", id="badgr"),
        pytest.param("http://127.0.0.1:8000/v2", "http://127.0.0.1:8000/o/token", id="port"),
        pytest.param("http://127.0.0.1:81/b/v2/", "http://127.0.0.1:81/b/o/token", id="prefix"),
    ],
)
def test_token_url_keeps_port_and_prefix(api_url: str, expected: str) -> None:
    """Moodle's [SCHEME]://[HOST] gave http://127.0.0.1/o/token here; the port now stays (W7)."""
    assert build_url(badgr.route("token"), api_url) == expected


@pytest.mark.parametrize(
    "api_url", ["https://x.example/v2", "https://x.example/v2/", " https://x.example/v2// "]
)
def test_slashes_are_normalised(api_url: str) -> None:
    """A trailing slash on the API URL never yields '//' (Moodle gave https://x//...)."""
    assert build_url(badgr.route("issuers.list"), api_url) == "https://x.example/v2/issuers"


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        pytest.param("kR3mXq9vTeWb2Lp0sYz7Hg", "kR3mXq9vTeWb2Lp0sYz7Hg", id="entity-id"),
        pytest.param("a/b", "a%2Fb", id="slash"),
        pytest.param("../admin", "..%2Fadmin", id="dot-dot"),
        pytest.param("a b?c#d", "a%20b%3Fc%23d", id="reserved"),
        pytest.param("é", "%C3%A9", id="unicode"),
    ],
)
def test_path_parameters_are_percent_encoded(value: str, encoded: str) -> None:
    """A path parameter can never reach another route: every reserved character is encoded."""
    url = build_url(badgr.route("assertions.get"), "https://x.example/v2", {"assertion": value})
    assert url == f"https://x.example/v2/assertions/{encoded}"


def test_integer_parameters_are_rendered() -> None:
    """Displayer ids are integers and render as digits."""
    url = build_url(displayer.route("group"), "https://b.example", {"user": 12, "group": 34})
    assert url == "https://b.example/displayer/12/group/34.json"


def test_an_empty_parameter_is_refused() -> None:
    """An empty id raises instead of silently addressing the list route."""
    with pytest.raises(ValueError, match="empty"):
        build_url(badgr.route("assertions.get"), "https://x.example/v2", {"assertion": ""})


def test_a_missing_parameter_is_refused() -> None:
    """A placeholder without a value raises KeyError."""
    with pytest.raises(KeyError):
        build_url(badgr.route("assertions.get"), "https://x.example/v2", {})


def test_fixed_query_comes_first_then_the_callers() -> None:
    """The endpoint's own query (e.g. expand) precedes the caller's, repeated keys kept."""
    endpoint = Endpoint("x", "GET", "/x", query=(("expand", "badgeclass"),))
    url = build_url(endpoint, "https://x.example/v2", query=[("expand", "issuer"), ("num", "2")])
    assert url == "https://x.example/v2/x?expand=badgeclass&expand=issuer&num=2"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        pytest.param(
            "assertions", "https://api.ca.badgr.io/public/assertions/123455", id="assertion"
        ),
        pytest.param("issuers", "https://api.ca.badgr.io/public/issuers/123455", id="issuer"),
        pytest.param("badges", "https://api.ca.badgr.io/public/badges/123455", id="badge"),
    ],
)
def test_badgr_open_url(kind: badgr.PublicKind, expected: str) -> None:
    """Moodle's test_badges_generate_badgr_open_url: the API host plus /public/KIND/ID."""
    assert badgr.public_url("https://api.ca.badgr.io/v2", kind, "123455") == expected


def test_badgr_open_url_keeps_port_and_prefix_and_encodes() -> None:
    """Unlike Moodle's helper, the public URL keeps the port and prefix and encodes the id."""
    url = badgr.public_url("http://127.0.0.1:8123/badgr/v2/", "assertions", "a/b")
    assert url == "http://127.0.0.1:8123/badgr/public/assertions/a%2Fb"


@pytest.mark.parametrize("endpoint", list(badgr.ROUTES.values()), ids=lambda e: e.name)
def test_every_badgr_route_builds_a_url(endpoint: Endpoint) -> None:
    """Every Badgr route builds an absolute URL under the root, with no double slash."""
    params = dict.fromkeys(endpoint.path_params, "E1")
    url = build_url(endpoint, "http://127.0.0.1:9/v2/", params)
    assert url.startswith("http://127.0.0.1:9/")
    assert "//" not in url.removeprefix("http://")
    assert ("/v2/" in url) is (endpoint.base.value == "api")


@pytest.mark.parametrize("endpoint", list(displayer.ROUTES.values()), ids=lambda e: e.name)
def test_every_displayer_route_is_relative_to_the_backpack_url(endpoint: Endpoint) -> None:
    """Displayer routes hang under the configured backpack URL, prefix included."""
    params = dict.fromkeys(endpoint.path_params, 7)
    url = build_url(endpoint, "http://127.0.0.1:9/backpack/", params)
    assert url.startswith("http://127.0.0.1:9/backpack/displayer/")
