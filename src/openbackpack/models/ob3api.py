"""The documents of the Open Badges 3.0 API (``/ims/ob/v3p0``), beside the credentials themselves.

The service description document (an OpenAPI 3.0 document a host serves at ``/discovery``)
with the fields a client relies on: the OAuth 2 authorization-code flow and its scopes, the
registration URL (``x-imssf-registrationUrl``) and the privacy policy
(``x-imssf-privacyPolicyUrl``). Then the answer of ``getCredentials`` and the
``Imsx_StatusInfo`` payload every error carries. A host's profile is the Open Badges 3.0
:class:`~openbackpack.models.ob3.Profile`.

Unknown properties survive (``extra="allow"``): a host's service description is a whole
OpenAPI document, of which only these fields are read.
"""

from __future__ import annotations

import enum
from typing import Any, Final

from pydantic import Field, field_validator

from openbackpack.models._base import WireModel
from openbackpack.models._ob3 import Profile

__all__ = [
    "REVOCATION_EXTENSION",
    "CodeMajor",
    "CodeMinor",
    "GetOpenBadgeCredentialsResponse",
    "ImsxCodeMinor",
    "ImsxCodeMinorField",
    "ImsxStatusInfo",
    "OAuth2Flow",
    "OAuth2Flows",
    "OAuth2SecurityScheme",
    "OpenApiComponents",
    "OpenApiInfo",
    "Profile",
    "SecuritySchemes",
    "ServiceDescription",
    "Severity",
]


REVOCATION_EXTENSION: Final = "x-openbackpack-revocationUrl"
"""Where a host names its RFC 7009 revocation endpoint in the OAuth 2 scheme.

The specification's service description has no field for it; openbackpack's host publishes
it under this extension name, and a client without it derives nothing and skips revocation.
"""


class CodeMajor(enum.StrEnum):
    """``imsx_codeMajor``: how the request ended."""

    FAILURE = "failure"
    PROCESSING = "processing"
    SUCCESS = "success"
    UNSUPPORTED = "unsupported"


class Severity(enum.StrEnum):
    """``imsx_severity``: how bad it is."""

    ERROR = "error"
    STATUS = "status"
    WARNING = "warning"


class CodeMinor(enum.StrEnum):
    """``imsx_codeMinorFieldValue``: the vocabulary of the reason codes."""

    FORBIDDEN = "forbidden"
    FULLSUCCESS = "fullsuccess"
    INTERNAL_SERVER_ERROR = "internal_server_error"
    INVALID_DATA = "invalid_data"
    INVALID_QUERY_PARAMETER = "invalid_query_parameter"
    MISDIRECTED_REQUEST = "misdirected_request"
    NOT_ACCEPTABLE = "not_acceptable"
    NOT_ALLOWED = "not_allowed"
    NOT_FOUND = "not_found"
    NOT_MODIFIED = "not_modified"
    SERVER_BUSY = "server_busy"
    UNAUTHORIZEDREQUEST = "unauthorizedrequest"
    UNKNOWN = "unknown"


def _http_url(value: str | None) -> str | None:
    # Tokens and client secrets are sent to these: never anything but an absolute http(s) URL.
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("an OAuth endpoint must be an absolute http(s) URL")
    return value


class ImsxCodeMinorField(WireModel):
    """One reason code: which system reported it (a field name) and the code."""

    name: str = Field(alias="imsx_codeMinorFieldName")
    value: str = Field(alias="imsx_codeMinorFieldValue")


class ImsxCodeMinor(WireModel):
    """The reason codes of a status."""

    fields: list[ImsxCodeMinorField] = Field(alias="imsx_codeMinorField", min_length=1)


class ImsxStatusInfo(WireModel):
    """The ``Imsx_StatusInfo`` payload of an OB 3.0 API error (and of a 304)."""

    code_major: str = Field(alias="imsx_codeMajor")
    severity: str = Field(alias="imsx_severity")
    description: str | None = Field(default=None, alias="imsx_description")
    code_minor: ImsxCodeMinor | None = Field(default=None, alias="imsx_codeMinor")

    @property
    def minor_values(self) -> list[str]:
        """The reason codes (``invalid_data``, ``forbidden``...), in order; may be empty."""
        return [field.value for field in self.code_minor.fields] if self.code_minor else []

    def wire(self) -> dict[str, Any]:
        """The JSON object as the specification's schema has it (no unset keys)."""
        return self.model_dump(by_alias=True, exclude_none=True)


class OAuth2Flow(WireModel):
    """The ``authorizationCode`` flow of the ``OAuth2ACG`` security scheme."""

    authorization_url: str = Field(alias="authorizationUrl")
    token_url: str = Field(alias="tokenUrl")
    refresh_url: str | None = Field(default=None, alias="refreshUrl")
    scopes: dict[str, str] = Field(default_factory=dict)

    @field_validator("authorization_url", "token_url")
    @classmethod
    def _required_url(cls, value: str) -> str:
        checked = _http_url(value)
        assert checked is not None
        return checked

    @field_validator("refresh_url")
    @classmethod
    def _optional_url(cls, value: str | None) -> str | None:
        return _http_url(value)


class OAuth2Flows(WireModel):
    """The flows of the OAuth 2 scheme; OB 3.0 uses only the authorization code flow."""

    authorization_code: OAuth2Flow = Field(alias="authorizationCode")


class OAuth2SecurityScheme(WireModel):
    """``components.securitySchemes.OAuth2ACG``: where to register, log in and get tokens."""

    type: str = "oauth2"
    description: str | None = None
    registration_url: str = Field(alias="x-imssf-registrationUrl")
    flows: OAuth2Flows
    revocation_url: str | None = Field(default=None, alias=REVOCATION_EXTENSION)

    @field_validator("registration_url")
    @classmethod
    def _url(cls, value: str) -> str:
        checked = _http_url(value)
        assert checked is not None
        return checked

    @field_validator("revocation_url")
    @classmethod
    def _optional_url(cls, value: str | None) -> str | None:
        return _http_url(value)


class SecuritySchemes(WireModel):
    """The security schemes of a service description (OB 3.0 defines ``OAuth2ACG``)."""

    oauth2_acg: OAuth2SecurityScheme = Field(alias="OAuth2ACG")


class OpenApiComponents(WireModel):
    """The ``components`` of a service description (only ``securitySchemes`` is read)."""

    security_schemes: SecuritySchemes = Field(alias="securitySchemes")


class OpenApiInfo(WireModel):
    """The ``info`` of a service description: who the host is, its terms and privacy policy."""

    title: str
    version: str
    terms_of_service: str = Field(alias="termsOfService")
    privacy_policy_url: str = Field(alias="x-imssf-privacyPolicyUrl")
    image: str | None = Field(default=None, alias="x-imssf-image")


class ServiceDescription(WireModel):
    """The service description document a host serves at ``{base}/ims/ob/v3p0/discovery``."""

    openapi: str
    info: OpenApiInfo
    components: OpenApiComponents
    servers: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def oauth(self) -> OAuth2SecurityScheme:
        """The OAuth 2 security scheme (registration URL and the authorization code flow)."""
        return self.components.security_schemes.oauth2_acg

    @property
    def flow(self) -> OAuth2Flow:
        """The authorization code flow: its URLs and the scopes it offers."""
        return self.oauth.flows.authorization_code

    @property
    def registration_url(self) -> str:
        """``x-imssf-registrationUrl``: the dynamic client registration endpoint."""
        return self.oauth.registration_url

    @property
    def scopes(self) -> list[str]:
        """The scopes the host offers, in the document's order."""
        return list(self.flow.scopes)

    @property
    def api_base(self) -> str | None:
        """The first server URL (the API base, ``…/ims/ob/v3p0``), or None when not given."""
        for server in self.servers:
            url = server.get("url")
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                return url.rstrip("/")
        return None


class GetOpenBadgeCredentialsResponse(WireModel):
    """The body of ``getCredentials``: credentials as JSON, and those signed as VC-JWT."""

    credential: list[dict[str, Any]] = Field(default_factory=list)
    compact_jws_string: list[str] = Field(default_factory=list, alias="compactJwsString")
