"""Pushing credentials to the 3.0 API: every credential is verified, and refused when invalid.

The refusal is a 400 ``invalid_data`` whose description names each failed check; nothing is
stored. A credential that could not be fully checked is refused too, unless the host is
set to accept it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from openbackpack.host import RunningHost
from tests.host._ob3 import Connected, Issuer, api, connect, imsx, push
from tests.host.conftest import second_host

pytestmark = pytest.mark.usefixtures("loopback_allowed")


def _count(http: httpx2.Client, host: RunningHost, connected: Connected) -> int:
    answer = http.get(api(host, "/credentials"), headers=connected.headers)
    return int(answer.headers["x-total-count"])


def _refused(
    http: httpx2.Client, host: RunningHost, credential: dict[str, Any] | str, *words: str
) -> None:
    connected = connect(http, host)
    description = imsx(push(http, host, connected, credential), 400, "invalid_data")
    for word in words:
        assert word in description, description
    assert _count(http, host, connected) == 0


def test_a_tampered_credential_is_refused_naming_the_proof(
    http: httpx2.Client, host: RunningHost
) -> None:
    """Changing a signed credential's name breaks its proof: 400, "proof", nothing stored."""
    signed = Issuer().credential()
    _refused(http, host, {**signed, "name": "Forged"}, "does not verify", "proof")


def test_an_unsigned_credential_is_refused(http: httpx2.Client, host: RunningHost) -> None:
    """A credential without a proof cannot be verified: 400 naming the proof."""
    _refused(http, host, Issuer().document(), "proof")


def test_a_credential_signed_by_another_key_than_the_issuers_is_refused(
    http: httpx2.Client, host: RunningHost
) -> None:
    """A proof by a key the issuer's DID does not hold fails the issuer key or proof check."""
    issuer, impostor = Issuer(), Issuer()
    document = issuer.document()
    signed = impostor.sign({**document, "issuer": {**document["issuer"], "id": impostor.did}})
    forged = {**signed, "issuer": {**signed["issuer"], "id": issuer.did}}
    _refused(http, host, forged, "does not verify")


def test_a_tampered_jwt_is_refused(http: httpx2.Client, host: RunningHost) -> None:
    """A VC-JWT whose payload was replaced fails its signature: 400 naming the proof."""
    issuer = Issuer()
    header, _, signature = issuer.jwt(issuer.document()).split(".")
    payload = json.loads(
        base64.urlsafe_b64decode(issuer.jwt(issuer.document()).split(".")[1] + "==")
    )
    payload["vc"] = {**payload.get("vc", payload), "name": "Forged"}
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    _refused(http, host, f"{header}.{forged}.{signature}", "proof")


def test_an_expired_credential_is_refused_naming_the_dates(
    http: httpx2.Client, host: RunningHost
) -> None:
    """A credential past its validUntil fails the validity dates check."""
    issuer = Issuer()
    document = {**issuer.document(), "validUntil": "2011-01-01T00:00:00Z"}
    _refused(http, host, issuer.sign(document), "validity dates")


def test_an_endorsement_is_not_a_badge_to_store(http: httpx2.Client, host: RunningHost) -> None:
    """A valid credential of another type than OpenBadgeCredential is refused."""
    issuer = Issuer()
    document = issuer.document()
    document["type"] = ["VerifiableCredential", "EndorsementCredential"]
    document["credentialSubject"] = {
        "id": "https://example.com/achievements/teamwork",
        "type": ["EndorsementSubject"],
    }
    connected = connect(http, host)
    answer = push(http, host, connected, issuer.sign(document))
    imsx(answer, 400, "invalid_data")
    assert _count(http, host, connected) == 0


@pytest.mark.parametrize(
    ("content_type", "body", "status", "minor"),
    [
        ("text/plain", b"not.a jws", 400, "invalid_data"),
        ("application/json", b"[1, 2]", 400, "invalid_data"),
        ("application/json", b"{nope", 400, "invalid_data"),
        ("application/xml", b"<credential/>", 415, "not_acceptable"),
    ],
)
def test_unreadable_bodies_are_refused_in_imsx(
    http: httpx2.Client,
    host: RunningHost,
    content_type: str,
    body: bytes,
    status: int,
    minor: str,
) -> None:
    """Text that is not a JWS, JSON that is not an object, other media types: typed refusals."""
    connected = connect(http, host)
    answer = http.post(
        api(host, "/credentials"),
        content=body,
        headers={"Content-Type": content_type, **connected.headers},
    )
    imsx(answer, status, minor)


def _with_status(issuer: Issuer, status_url: str) -> dict[str, Any]:
    document = issuer.document()
    document["credentialStatus"] = {
        "id": f"{status_url}#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": status_url,
    }
    return issuer.sign(document)


def test_a_credential_whose_status_cannot_be_read_is_refused_by_default(
    http: httpx2.Client, host: RunningHost, documents: Any
) -> None:
    """A status list that does not answer leaves a check undone: refused, the check named."""
    credential = _with_status(Issuer(), documents.base_url + "/missing-status-list")
    _refused(http, host, credential, "could not be fully checked", "status")


@pytest.fixture(scope="module")
def lenient_host(host_db_url: str, host: RunningHost) -> Iterator[RunningHost]:
    """A host on the shared database that stores credentials it could not fully check."""
    with second_host(host_db_url, ob3_accept_unchecked=True) as running:
        yield running


def test_a_host_set_to_accept_unchecked_credentials_stores_them_but_never_invalid_ones(
    http: httpx2.Client, lenient_host: RunningHost, documents: Any
) -> None:
    """With ob3_accept_unchecked an unreadable status list is stored; a bad proof never is."""
    issuer = Issuer()
    connected = connect(http, lenient_host)
    credential = _with_status(issuer, documents.base_url + "/missing-status-list")
    assert push(http, lenient_host, connected, credential).status_code == 201
    tampered = push(http, lenient_host, connected, {**credential, "name": "Forged"})
    imsx(tampered, 400, "invalid_data")
    assert _count(http, lenient_host, connected) == 1


def test_a_context_the_json_ld_processor_cannot_read_is_a_400_not_a_crash(
    http: httpx2.Client, host: RunningHost
) -> None:
    """A relative IRI as a context (found by fuzzing) is refused as unreadable, not a 500."""
    issuer = Issuer()
    signed = issuer.credential()
    broken = {**signed, "@context": [*signed["@context"], "¡not an iri"]}
    connected = connect(http, host)
    imsx(push(http, host, connected, broken), 400, "invalid_data")
