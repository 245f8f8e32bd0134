"""Helpers of the Badge Connect host tests: registering, the authorization page, tokens."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from jsonschema import Draft7Validator

from openbackpack.host import RunningHost
from openbackpack.protocols import badgeconnect as bc
from tests.host._helpers import PASSWORD, new_email

SCHEMAS = Path(__file__).parent.parent / "data" / "ob_v2p1"
REDIRECT = "http://127.0.0.1:9/callback"  # never contacted: the tests read the Location
VERIFIER = bc.new_code_verifier()
SCOPES = " ".join(s.value for s in bc.Scope)


@cache
def _validator(name: str) -> Draft7Validator:
    path = SCHEMAS / f"imsob_v2p1v2p1-{name}-schemav1p0.json"
    return Draft7Validator(json.loads(path.read_text()))


def valid(name: str, document: Any) -> bool:
    """Whether ``document`` passes the official schema ``name`` (e.g. ``getmanifest-200-...``)."""
    errors = list(_validator(name).iter_errors(document))
    assert not errors, [e.message for e in errors]
    return True


@dataclass(frozen=True)
class Client:
    """A client registered on a host."""

    client_id: str
    client_secret: str
    redirect_uri: str

    @property
    def basic(self) -> dict[str, str]:
        pair = f"{self.client_id}:{self.client_secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def entry(http: httpx2.Client, host: RunningHost) -> dict[str, Any]:
    """The host's manifest entry (following Badgr's redirect)."""
    answer = http.get(host.manifest_url, follow_redirects=True)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["badgeConnectAPI"][0])


def metadata(redirect_uri: str = REDIRECT, **overrides: Any) -> dict[str, Any]:
    """A registration body whose URLs share the loopback host of ``redirect_uri``."""
    base = f"{urlsplit(redirect_uri).scheme}://{urlsplit(redirect_uri).netloc}"
    body: dict[str, Any] = {
        "client_name": "Test platform",
        "client_uri": base + "/",
        "logo_uri": base + "/logo.png",
        "tos_uri": base + "/tos",
        "policy_uri": base + "/privacy",
        "software_id": "tests",
        "software_version": "1",
        "redirect_uris": [redirect_uri],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": SCOPES,
    }
    return {**body, **overrides}


def register(http: httpx2.Client, host: RunningHost, **overrides: Any) -> Client:
    """Register a client; its redirect URI is :data:`REDIRECT` unless overridden."""
    body = metadata(**overrides)
    answer = http.post(host.base_url + "/o/register", json=body)
    assert answer.status_code == 201, answer.text
    data = answer.json()
    return Client(data["client_id"], data["client_secret"], body["redirect_uris"][0])


def auth_params(
    client: Client, *, scope: str = SCOPES, state: str = "state-1", verifier: str | None = VERIFIER
) -> dict[str, str]:
    """The authorization request's parameters."""
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": scope,
        "state": state,
    }
    if verifier is not None:
        params |= {"code_challenge": bc.code_challenge(verifier), "code_challenge_method": "S256"}
    return params


def submit(
    http: httpx2.Client,
    host: RunningHost,
    params: dict[str, str],
    email: str,
    *,
    password: str = PASSWORD,
    consent: str = "allow",
) -> httpx2.Response:
    """POST the authorization form as a browser would (no redirect followed)."""
    form = {**params, "email": email, "password": password, "consent": consent}
    return http.post(host.base_url + "/o/authorize", data=form, follow_redirects=False)


def redirected(answer: httpx2.Response) -> dict[str, str]:
    """The query of a 302 to the client's redirect URI."""
    assert answer.status_code == 302, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


def authorize(
    http: httpx2.Client, host: RunningHost, client: Client, email: str, **options: Any
) -> str:
    """Show the page, log in, consent; return the code."""
    params = auth_params(client, **options)
    page = http.get(host.base_url + "/o/authorize", params=params)
    assert page.status_code == 200, page.text
    assert "<form" in page.text
    query = redirected(submit(http, host, params, email))
    assert query["state"] == params["state"]
    return query["code"]


def exchange(
    http: httpx2.Client,
    host: RunningHost,
    client: Client,
    code: str,
    *,
    verifier: str = VERIFIER,
    redirect_uri: str | None = None,
) -> httpx2.Response:
    """Trade a code at the token endpoint with HTTP Basic."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri or client.redirect_uri,
        "code_verifier": verifier,
    }
    return http.post(host.base_url + "/o/token", data=form, headers=client.basic)


@dataclass(frozen=True)
class Connected:
    """A user who connected a registered client: the token answer and the user's email."""

    email: str
    client: Client
    grant: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.grant['access_token']}"}


def connect(
    http: httpx2.Client, host: RunningHost, *, scope: str = SCOPES, **client: Any
) -> Connected:
    """A new user, a new client, the whole authorization; returns the tokens."""
    email = new_email("bc")
    host.add_user(email, PASSWORD)
    registered = register(http, host, **client)
    code = authorize(http, host, registered, email, scope=scope)
    answer = exchange(http, host, registered, code)
    assert answer.status_code == 200, answer.text
    return Connected(email, registered, answer.json())


def hosted_award(documents: Any, name: str, email: str, salt: str = "pepper") -> str:
    """Publish an issuer, a badge class and an award to ``email`` (hashed); return its URL."""
    base = documents.base_url
    issuer = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Issuer",
        "id": f"{base}/{name}/issuer",
        "name": "Outside issuer",
        "url": "https://outside.example.org",
        "email": "badges@outside.example.org",
    }
    documents.put(f"/{name}/issuer", issuer)
    badge = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "BadgeClass",
        "id": f"{base}/{name}/badge",
        "name": f"Badge {name}",
        "description": "Outside work",
        "image": "https://outside.example.org/b.png",
        "criteria": {"narrative": "Do it."},
        "issuer": issuer["id"],
    }
    documents.put(f"/{name}/badge", badge)
    identity = "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest()
    assertion = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": f"{base}/{name}/assertion",
        "recipient": {"type": "email", "hashed": True, "salt": salt, "identity": identity},
        "badge": badge["id"],
        "issuedOn": "2024-05-01T10:00:00Z",
        "verification": {"type": "HostedBadge"},
    }
    return str(documents.put(f"/{name}/assertion", assertion))
