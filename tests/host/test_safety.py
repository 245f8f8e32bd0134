"""Safety: what imports may fetch, size and time limits, malformed bodies, atomic requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.host._fetch import Fetcher, FetchError
from tests.host._helpers import Account, error, new_account, result
from tests.host.conftest import Documents


@pytest.fixture
def strict_host(tmp_path: Path) -> Iterator[RunningHost]:
    """A host with the default (strict) fetch rules, small limits and a short timeout."""
    settings = HostSettings(
        db_url=f"sqlite:///{tmp_path / 's.sqlite3'}",
        fetch_timeout=0.5,
        fetch_max_bytes=2048,
        max_body_bytes=4096,
        login_backoff_max=0,
    )
    with run_host_in_thread(settings) as running:
        yield running


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a",
        "http://localhost/a",
        "http://[::1]/a",
        "http://10.1.2.3/a",
        "http://192.168.0.1/a",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:127.0.0.1]/a",
        "http://0.0.0.0/a",
        "ftp://example.org/a",
        "file:///etc/passwd",
    ],
)
def test_private_loopback_and_non_http_urls_are_refused(url: str) -> None:
    """Without allow_private_fetch, special addresses and other schemes are never fetched."""
    fetcher = Fetcher(timeout=1, max_bytes=100, allow_private=False)
    with pytest.raises(FetchError):
        fetcher.check_url(url)


def test_public_addresses_pass_the_check() -> None:
    """A global address passes the address check (nothing is fetched here)."""
    Fetcher(timeout=1, max_bytes=100, allow_private=False).check_url("http://93.184.216.34/a")


def test_import_from_loopback_is_refused_by_default(
    http: httpx2.Client, strict_host: RunningHost, documents: Documents
) -> None:
    """A host started without --allow-private-fetch refuses to import from 127.0.0.1."""
    earner = new_account(http, strict_host, prefix="strict")
    url = documents.put("/private", {"type": "Assertion"})
    answer = error(
        http.post(
            f"{strict_host.api_url}/backpack/import", json={"url": url}, headers=earner.headers
        ),
        400,
    )
    assert answer["validationErrors"][0] == "FETCH_HTTP_NODE"
    assert "private" in answer["validationErrors"][4]


def test_fetch_size_cap_and_timeout(documents: Documents) -> None:
    """Documents over the size cap and answers slower than the timeout are refused."""
    fetcher = Fetcher(timeout=0.3, max_bytes=1024, allow_private=True)
    with pytest.raises(FetchError, match="larger than 1024 bytes"):
        fetcher.get(documents.put("/big", b"x" * 5000))
    with pytest.raises(FetchError, match="Timeout"):
        fetcher.get(documents.put("/slow", {}, delay=1.0))
    with pytest.raises(FetchError) as gone:
        fetcher.get(documents.put("/gone", {}, status=410))
    assert gone.value.status == 410


def test_redirects_are_followed_and_checked(documents: Documents) -> None:
    """A redirect is followed (each hop checked); a loop ends with too many redirects."""
    fetcher = Fetcher(timeout=1, max_bytes=1024, allow_private=True)
    target = documents.put("/target", {"ok": True})
    documents.put("/hop", target.encode(), status=302)
    assert fetcher.get(f"{documents.base_url}/hop").content == b'{"ok": true}'
    documents.put("/loop", f"{documents.base_url}/loop".encode(), status=302)
    with pytest.raises(FetchError, match="too many redirects"):
        fetcher.get(f"{documents.base_url}/loop")
    strict = Fetcher(timeout=1, max_bytes=1024, allow_private=False)
    with pytest.raises(FetchError, match="private"):
        strict.get(f"{documents.base_url}/hop")


def test_bad_bodies_get_4xx_in_badgrs_shape(http: httpx2.Client, strict_host: RunningHost) -> None:
    """Malformed JSON is 400, other media types 415, oversized bodies 413: never a 500."""
    account = new_account(http, strict_host, prefix="bodies")
    url = f"{strict_host.api_url}/issuers"
    headers = {**account.headers, "Content-Type": "application/json"}
    broken = error(http.post(url, content=b"{nope", headers=headers), 400)
    assert broken["validationErrors"][0].startswith("JSON parse error - ")
    text = error(
        http.post(url, content=b"hi", headers={**account.headers, "Content-Type": "text/plain"}),
        415,
    )
    assert text["status"]["description"] == "miscellaneous error"
    assert text["fieldErrors"] == 'Unsupported media type "text/plain" in request.'
    error(http.post(url, json={"name": "x" * 10000}, headers=account.headers), 413)
    binary = error(http.post(url, content=b"\xff\xfe", headers=headers), 400)
    assert binary["validationErrors"] == ["Request body is not UTF-8."]
    token = http.post(
        f"{strict_host.base_url}/o/token",
        content=b"{",
        headers={"Content-Type": "application/json"},
    )
    assert (token.status_code, token.json()["error"]) == (400, "invalid_request")


def test_a_failed_request_writes_nothing(
    http: httpx2.Client, host: RunningHost, account: Account
) -> None:
    """A collection create that fails on its assertion list leaves no collection behind."""
    url = f"{host.api_url}/backpack/collections"
    body = {"name": "Half", "assertions": ["unknown-award"]}
    error(http.post(url, json=body, headers=account.headers), 400)
    assert http.get(url, headers=account.headers).json()["result"] == []
    made = result(http.post(url, json={"name": "Whole"}, headers=account.headers), 201)
    assert made["name"] == "Whole"


def test_nul_characters_are_refused_everywhere(
    http: httpx2.Client, host: RunningHost, account: Account
) -> None:
    """NUL in a path, query or body is a 400 in the protocol's shape (PostgreSQL cannot hold it)."""
    path = error(http.get(f"{host.base_url}/public/issuers/a%00b"), 400)
    assert path["validationErrors"] == ["Null characters are not allowed."]
    error(http.get(f"{host.api_url}/issuers", params={"x": "\x00"}, headers=account.headers), 400)
    body = {"name": "a\x00b", "email": account.email, "url": "https://example.org"}
    error(http.post(f"{host.api_url}/issuers", json=body, headers=account.headers), 400)
    token = http.post(f"{host.base_url}/o/token", data={"username": "a\x00", "password": "x"})
    assert (token.status_code, token.json()["error"]) == (400, "invalid_request")
    lookup = http.post(f"{host.base_url}/displayer/convert/email", json={"email": "a\x00"})
    assert (lookup.status_code, lookup.json()["status"]) == (400, "invalid")


def test_over_long_values_are_field_errors(
    http: httpx2.Client, host: RunningHost, account: Account, badgeclass: Any
) -> None:
    """Values longer than their columns are refused before the database sees them."""
    url = f"{host.api_url}/badgeclasses/{badgeclass['entityId']}/assertions"
    identity = "https://example.org/" + "a" * 2000
    long_id = {"recipient": {"identity": identity, "type": "url"}}
    assert (
        "identity"
        in error(http.post(url, json=long_id, headers=account.headers), 400)["fieldErrors"][
            "recipient"
        ]
    )
    imported = {"url": "https://example.org/" + "a" * 3000}
    answer = error(
        http.post(f"{host.api_url}/backpack/import", json=imported, headers=account.headers), 400
    )
    assert answer["fieldErrors"]["url"][0].startswith("Ensure this field has no more than 2048")
    huge = {
        "name": "B",
        "description": "d",
        "image": badgeclass["image"],
        "expires": {"amount": 10**12, "duration": "days"},
    }
    put = error(
        http.put(
            f"{host.api_url}/badgeclasses/{badgeclass['entityId']}",
            json=huge,
            headers=account.headers,
        ),
        400,
    )
    assert "amount" in put["fieldErrors"]["expires"]
    login = http.post(f"{host.base_url}/o/token", data={"username": "u" * 5000, "password": "x"})
    assert login.json()["error"] == "invalid_grant"
