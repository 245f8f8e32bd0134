"""Hostile nesting never reaches a 500: deep JSON and long dotted form keys are a 400.

``json.loads`` raises RecursionError past about 1,000 levels, and a recursive walk of a form
key with thousands of dotted parts does too; the host caps nesting at ``MAX_DEPTH`` instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbackpack.host import HostSettings, RunningHost, run_host_in_thread, served_routes
from openbackpack.protocols._endpoint import Body
from tests.host._badgeconnect import connect
from tests.host._helpers import new_account
from tests.host._ob3 import connect as ob3_connect


@pytest.fixture(scope="module")
def deep_host(host_db_url: str, host: RunningHost) -> Iterator[RunningHost]:
    """A host on the shared database (a module of its own keeps its logs apart)."""
    settings = HostSettings(
        db_url=host_db_url, login_backoff_max=0, migrate=False, allow_loopback_redirects=True
    )
    with run_host_in_thread(settings) as running:
        yield running


@pytest.fixture(scope="module")
def targets(deep_host: RunningHost) -> list[tuple[str, str, dict[str, str]]]:
    """Every body-taking route, its path filled in, with a token it accepts."""
    with httpx2.Client(timeout=10) as http:
        badgr = new_account(http, deep_host, prefix="deep").headers
        bc = connect(http, deep_host).headers
        ob3 = ob3_connect(http, deep_host).headers
    found = []
    for method, path, endpoint in served_routes():
        if endpoint.body is Body.NONE:
            continue
        url = deep_host.base_url + re.sub(r"\{[^}]+\}", "x", path)
        headers = (
            ob3 if path.startswith("/ims/ob/v3p0") else bc if path.startswith("/ims/") else badgr
        )
        found.append((method, url, headers))
    assert len(found) > 10
    return found


def _nested(depth: int, kinds: str) -> str:
    opens = "".join('{"a":' if kinds[i % len(kinds)] == "d" else "[" for i in range(depth))
    closes = "".join("}" if kinds[i % len(kinds)] == "d" else "]" for i in reversed(range(depth)))
    return opens + "1" + closes


def test_json_nested_a_thousand_deep_is_a_400_everywhere(
    targets: list[tuple[str, str, dict[str, str]]],
) -> None:
    """A 2 KB JSON body nested 1,000 deep gets 400 on every body-taking route."""
    with httpx2.Client(timeout=10) as http:
        for method, url, headers in targets:
            for body in (_nested(1000, "l"), _nested(1000, "d")):
                answer = http.request(
                    method,
                    url,
                    content=body,
                    headers={**headers, "Content-Type": "application/json"},
                )
                assert answer.status_code == 400, (method, url, answer.status_code, answer.text)


def test_form_key_of_five_thousand_parts_is_a_400_everywhere(
    targets: list[tuple[str, str, dict[str, str]]],
) -> None:
    """A 5,000-part form key gets 400 on every body route (415 where only JSON is taken)."""
    key = ".".join(["a"] * 5000)
    with httpx2.Client(timeout=10) as http:
        for method, url, headers in targets:
            expected = 415 if "/ims/ob/v3p0/" in url else 400
            form = http.request(method, url, data={key: "1"}, headers=headers)
            assert form.status_code == expected, (method, url, form.status_code, form.text)
            multi = http.request(method, url, files={key: (None, "1")}, headers=headers)
            assert multi.status_code == expected, (method, url, multi.status_code, multi.text)


_KEY_PART = st.text(alphabet="ab.[]0 _-", max_size=4)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    depth=st.integers(min_value=1, max_value=3000),
    kinds=st.text(alphabet="dl", min_size=1, max_size=3),
    parts=st.lists(_KEY_PART, min_size=1, max_size=40),
    repeat=st.integers(min_value=1, max_value=200),
)
def test_fuzzed_nesting_and_key_shapes_get_only_4xx(
    targets: list[tuple[str, str, dict[str, str]]],
    depth: int,
    kinds: str,
    parts: list[str],
    repeat: int,
) -> None:
    """Any nesting depth and any shape of form key, on every body-taking route, is a 2xx-4xx."""
    body = _nested(depth, kinds)
    key = ".".join(parts * repeat)
    with httpx2.Client(timeout=10) as http:
        for method, url, headers in targets:
            json_answer = http.request(
                method, url, content=body, headers={**headers, "Content-Type": "application/json"}
            )
            assert json_answer.status_code < 500, (method, url, depth, kinds)
            form_answer = http.request(method, url, data={key: "1"}, headers=headers)
            assert form_answer.status_code < 500, (method, url, key[:80])
