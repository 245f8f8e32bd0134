"""Helpers of the Open Badges 3.0 API host tests: discovery, OAuth through the page, signing.

Everything goes over loopback HTTP with plain httpx2 requests, the way the 1EdTech
certification drives a host: the URLs come from the service description, the consent page
is read and its form posted as a browser would.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
from jsonschema import Draft7Validator
from jsonschema.validators import validator_for

from openbackpack.credentials import (
    DocumentLoader,
    KeyPair,
    did_key,
    sign_data_integrity,
    sign_vc_jwt,
)
from openbackpack.host import RunningHost
from openbackpack.protocols import ob3api
from tests.host._badgeconnect import metadata as bc_metadata
from tests.host._helpers import PASSWORD, new_email

SCHEMAS = Path(__file__).parent.parent / "data" / "ob_v3p0" / "schema"
VECTOR = Path(__file__).parent.parent / "data" / "ob_v3p0" / "obv3p0" / "vector.json"
REDIRECT = "http://127.0.0.1:9/callback"  # never contacted: the tests read the Location
VERIFIER = ob3api.new_code_verifier()
SCOPES = " ".join(s.value for s in ob3api.Scope)
LOADER = DocumentLoader()


def api(host: RunningHost, path: str = "") -> str:
    """A URL under the host's OB 3.0 API base."""
    return ob3api.api_url(host.base_url) + path


# ------------------------------------------------------------------------------ schemas


@cache
def _validator(name: str) -> Any:
    if name in ("profile", "achievementcredential"):
        text = resources.files("openbackpack.credentials").joinpath(f"data/schemas/{name}.json")
        schema = json.loads(text.read_text(encoding="utf-8"))
    else:
        schema = json.loads((SCHEMAS / "json" / f"{name}.json").read_text())
    return validator_for(schema)(schema)


@cache
def _description_validator() -> Draft7Validator:
    # The OpenAPI file's own schema of a service description, its references kept in place.
    spec = json.loads((SCHEMAS / "openapi" / "openapi.json").read_text())
    schema = {
        "$ref": "#/components/schemas/ServiceDescriptionDocument",
        "components": spec["components"],
    }
    return Draft7Validator(schema)


def valid(name: str, document: Any) -> bool:
    """Whether ``document`` passes the shipped JSON Schema ``name`` (``imsx_statusinfo``...)."""
    validator = _description_validator() if name == "servicedescription" else _validator(name)
    errors = list(validator.iter_errors(document))
    assert not errors, [e.message for e in errors[:5]]
    return True


def imsx(response: httpx2.Response, status: int, minor: str) -> str:
    """Assert an Imsx_StatusInfo error answer; return its description."""
    assert response.status_code == status, response.text
    body = response.json()
    assert valid("imsx_statusinfo", body)
    assert body["imsx_codeMajor"] == "failure"
    values = [f["imsx_codeMinorFieldValue"] for f in body["imsx_codeMinor"]["imsx_codeMinorField"]]
    assert values == [minor]
    return str(body["imsx_description"])


# -------------------------------------------------------------------------- OAuth flow


@dataclass(frozen=True)
class Client:
    """A client registered on a host's 3.0 API, with the endpoints discovery gave."""

    client_id: str
    client_secret: str
    redirect_uri: str
    endpoints: dict[str, str]

    @property
    def basic(self) -> dict[str, str]:
        """The HTTP Basic header of the client's credentials."""
        pair = f"{self.client_id}:{self.client_secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def endpoints(http: httpx2.Client, host: RunningHost) -> dict[str, str]:
    """The OAuth endpoints of a host, read from its service description."""
    answer = http.get(api(host, "/discovery"))
    assert answer.status_code == 200, answer.text
    description = ob3api.description_of(answer.content)
    assert description.oauth.revocation_url is not None
    return {
        "register": description.registration_url,
        "authorize": description.flow.authorization_url,
        "token": description.flow.token_url,
        "refresh": description.flow.refresh_url or description.flow.token_url,
        "revoke": description.oauth.revocation_url,
    }


def metadata(redirect_uri: str = REDIRECT, **overrides: Any) -> dict[str, Any]:
    """A registration body (RFC 7591) asking for the 3.0 scopes."""
    return bc_metadata(redirect_uri, **{"scope": SCOPES, **overrides})


def register(http: httpx2.Client, host: RunningHost, **overrides: Any) -> Client:
    """Register a client at the registration URL of the service description."""
    urls = endpoints(http, host)
    body = metadata(**overrides)
    answer = http.post(urls["register"], json=body)
    assert answer.status_code == 201, answer.text
    data = answer.json()
    return Client(data["client_id"], data["client_secret"], body["redirect_uris"][0], urls)


def auth_params(
    client: Client, *, scope: str = SCOPES, state: str = "state-1", verifier: str = VERIFIER
) -> dict[str, str]:
    """The authorization request of RFC 6749 §4.1.1 with an S256 challenge."""
    return {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": scope,
        "state": state,
        "code_challenge": ob3api.code_challenge(verifier),
        "code_challenge_method": "S256",
    }


class _Form(HTMLParser):
    """The first form of a page: its action and its hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = values.get("action") or ""
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.hidden[str(values["name"])] = values.get("value") or ""


def consent_form(page: httpx2.Response) -> tuple[str, dict[str, str]]:
    """The consent form of an authorization page: where it posts, and what it carries."""
    assert page.status_code == 200, page.text
    form = _Form()
    form.feed(page.text)
    assert form.action is not None, page.text
    return urljoin(str(page.url), form.action), form.hidden


def redirected(answer: httpx2.Response) -> dict[str, str]:
    """The query of a 302 to the client's redirect URI."""
    assert answer.status_code == 302, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


def authorize(
    http: httpx2.Client,
    client: Client,
    email: str,
    *,
    consent: str = "allow",
    **options: Any,
) -> dict[str, str]:
    """Open the page, post its form with a login and a consent; return the redirect's query."""
    page = http.get(client.endpoints["authorize"], params=auth_params(client, **options))
    action, hidden = consent_form(page)
    form = {**hidden, "email": email, "password": PASSWORD, "consent": consent}
    return redirected(http.post(action, data=form, follow_redirects=False))


def exchange(
    http: httpx2.Client,
    client: Client,
    code: str,
    *,
    verifier: str = VERIFIER,
    redirect_uri: str | None = None,
) -> httpx2.Response:
    """Trade a code at the token endpoint, authenticated with HTTP Basic."""
    form = ob3api.code_grant_form(code, redirect_uri or client.redirect_uri, verifier, [])
    return http.post(client.endpoints["token"], data=form, headers=client.basic)


@dataclass
class Connected:
    """A user who connected a client: the token answer, kept current across refreshes."""

    email: str
    client: Client
    grant: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        """The Bearer header of the current access token."""
        return {"Authorization": f"Bearer {self.grant['access_token']}"}


def new_user(host: RunningHost) -> str:
    """A fresh verified user of the host; returns the e-mail address."""
    email = new_email("ob3")
    host.add_user(email, PASSWORD)
    return email


def connect(http: httpx2.Client, host: RunningHost, *, scope: str = SCOPES) -> Connected:
    """A new user and client, the whole authorization through the page; returns the tokens."""
    email = new_user(host)
    client = register(http, host)
    query = authorize(http, client, email, scope=scope)
    answer = exchange(http, client, query["code"])
    assert answer.status_code == 200, answer.text
    return Connected(email, client, answer.json())


# ------------------------------------------------------------------------- credentials


@dataclass(frozen=True)
class Issuer:
    """An issuer with a did:key, signing credentials as Data Integrity or VC-JWT."""

    key: KeyPair = field(default_factory=KeyPair.generate)

    @property
    def did(self) -> str:
        """The issuer's did:key."""
        return did_key(self.key.public_key)

    @property
    def method(self) -> str:
        """The verification method naming the issuer's key."""
        return f"{self.did}#{self.key.multikey}"

    def document(
        self,
        *,
        name: str = "Teamwork Badge",
        achievement: str = "https://example.com/achievements/teamwork",
        subject: str = "did:example:learner",
        credential_id: str | None = "",
    ) -> dict[str, Any]:
        """An unsigned OpenBadgeCredential of this issuer (a fresh ``urn:uuid`` id by default)."""
        document: dict[str, Any] = copy.deepcopy(json.loads(VECTOR.read_text())["credential"])
        document["issuer"]["id"] = self.did
        document["name"] = name
        document["credentialSubject"]["id"] = subject
        document["credentialSubject"]["achievement"]["id"] = achievement
        if credential_id is None:
            del document["id"]
        else:
            document["id"] = credential_id or f"urn:uuid:{uuid.uuid4()}"
        return document

    def sign(self, document: dict[str, Any]) -> dict[str, Any]:
        """The document with an eddsa-rdfc-2022 proof."""
        return sign_data_integrity(document, self.key, self.method, LOADER)

    def jwt(self, document: dict[str, Any]) -> str:
        """The document as a VC-JWT (compact JWS)."""
        return sign_vc_jwt(document, self.key, self.method)

    def credential(self, **options: Any) -> dict[str, Any]:
        """A signed OpenBadgeCredential."""
        return self.sign(self.document(**options))


def push(
    http: httpx2.Client, host: RunningHost, connected: Connected, credential: dict[str, Any] | str
) -> httpx2.Response:
    """POST /credentials with the body the protocol table builds (JSON, or a JWS as text)."""
    headers, content = ob3api.upsert_body(credential)
    return http.post(
        api(host, "/credentials"), content=content, headers={**headers, **connected.headers}
    )
