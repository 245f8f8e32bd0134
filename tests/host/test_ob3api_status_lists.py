"""The 3.0 API relies on a verified status list for as long as its ttl says, and no longer.

Each test serves its own list (a signed BitstringStatusListCredential of a did:key issuer) at
its own URL, pushes credentials that name it, and counts the host's fetches of the list.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from openbackpack.credentials import encode_bitstring
from openbackpack.host import RunningHost
from tests.host._ob3 import Issuer, connect, imsx, push
from tests.host.conftest import second_host

pytestmark = pytest.mark.usefixtures("loopback_allowed")

_INDEX = 7


def _status_list(issuer: Issuer, url: str, *, ttl: int | None, revoked: bool = False) -> Any:
    bits = bytearray(131_072 // 8)
    if revoked:
        bits[_INDEX // 8] |= 0x80 >> (_INDEX % 8)
    subject: dict[str, Any] = {
        "id": f"{url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": encode_bitstring(bytes(bits)),
    }
    if ttl is not None:
        subject["ttl"] = ttl
    return issuer.sign(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": issuer.did,
            "validFrom": "2020-01-01T00:00:00Z",
            "credentialSubject": subject,
        }
    )


def _credential(issuer: Issuer, url: str) -> dict[str, Any]:
    document = issuer.document(achievement=f"https://example.com/achievements/{uuid.uuid4()}")
    document["credentialStatus"] = {
        "id": f"{url}#{_INDEX}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(_INDEX),
        "statusListCredential": url,
    }
    return issuer.sign(document)


def _serve_list(documents: Any, issuer: Issuer, *, ttl: int | None) -> tuple[str, str]:
    path = f"/status/{uuid.uuid4().hex}"
    return path, documents.put(path, _status_list(issuer, documents.base_url + path, ttl=ttl))


def _push_three(http: httpx2.Client, host: RunningHost, issuer: Issuer, url: str) -> list[int]:
    """Push three credentials naming the list at ``url`` for one new learner; the statuses."""
    connected = connect(http, host)
    return [push(http, host, connected, _credential(issuer, url)).status_code for _ in range(3)]


@pytest.fixture(scope="module")
def strict_host(host_db_url: str, host: RunningHost) -> Iterator[RunningHost]:
    """A host on the shared database that relies on no status list (max age 0)."""
    with second_host(host_db_url, status_list_max_age=0) as running:
        yield running


def test_a_list_with_a_ttl_is_fetched_once_for_many_pushes(
    http: httpx2.Client, host: RunningHost, documents: Any
) -> None:
    """Three credentials naming one list stating a minute: all stored, the list fetched once."""
    issuer = Issuer()
    path, url = _serve_list(documents, issuer, ttl=60_000)
    assert _push_three(http, host, issuer, url) == [201, 201, 201]
    assert documents.hits[path] == 1


def test_a_list_without_a_ttl_is_fetched_for_every_push(
    http: httpx2.Client, host: RunningHost, documents: Any
) -> None:
    """A list that states no ttl is never relied on: one fetch per pushed credential."""
    issuer = Issuer()
    path, url = _serve_list(documents, issuer, ttl=None)
    assert _push_three(http, host, issuer, url) == [201, 201, 201]
    assert documents.hits[path] == 3


def test_a_host_relying_on_no_list_sees_a_revocation_at_once(
    http: httpx2.Client, strict_host: RunningHost, documents: Any
) -> None:
    """With status_list_max_age=0 a credential revoked after a first push is refused next."""
    issuer = Issuer()
    path, url = _serve_list(documents, issuer, ttl=60_000)
    connected = connect(http, strict_host)
    credential = _credential(issuer, url)
    assert push(http, strict_host, connected, credential).status_code == 201
    documents.put(path, _status_list(issuer, url, ttl=60_000, revoked=True))
    description = imsx(push(http, strict_host, connected, credential), 400, "invalid_data")
    assert "status" in description
    assert documents.hits[path] == 2
