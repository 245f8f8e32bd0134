"""Request-body schemas for the OpenAPI document (the handlers read bodies themselves).

Bodies are parsed by hand so that every failure keeps its protocol's shape; these schemas
only tell the OpenAPI document (and schemathesis) what a valid body looks like.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["request_body"]

_STR: Final = {"type": "string"}
_URL: Final = {"type": "string", "format": "uri"}
_WHEN: Final = {"type": "string", "format": "date-time"}

_ISSUER: Final = {
    "type": "object",
    "properties": {
        "name": _STR,
        "email": {"type": "string", "format": "email"},
        "url": _URL,
        "description": _STR,
        "image": {"type": "string", "description": "data:image/png;base64,... or SVG"},
    },
    "required": ["name", "email", "url"],
}
_ALIGNMENT: Final = {
    "type": "object",
    "properties": {
        "targetName": _STR,
        "targetUrl": _URL,
        "targetDescription": _STR,
        "targetFramework": _STR,
        "targetCode": _STR,
    },
    "required": ["targetName", "targetUrl"],
}
_BADGECLASS: Final = {
    "type": "object",
    "properties": {
        "name": _STR,
        "description": _STR,
        "image": _STR,
        "criteriaUrl": _URL,
        "criteriaNarrative": _STR,
        "alignments": {"type": "array", "items": _ALIGNMENT},
        "tags": {"type": "array", "items": _STR},
        "expires": {
            "type": "object",
            "properties": {
                "amount": {"type": "integer", "minimum": 1},
                "duration": {"enum": ["days", "weeks", "months", "years"]},
            },
        },
        "issuer": _STR,
    },
    "required": ["name", "description", "image"],
}
_RECIPIENT: Final = {
    "type": "object",
    "properties": {
        "identity": _STR,
        "type": {"enum": ["email", "url", "telephone", "openBadgeId"]},
        "hashed": {"type": "boolean"},
    },
    "required": ["identity"],
}
_ASSERTION: Final = {
    "type": "object",
    "properties": {
        "recipient": _RECIPIENT,
        "issuedOn": _WHEN,
        "expires": _WHEN,
        "narrative": _STR,
        "evidence": {
            "type": "array",
            "items": {"type": "object", "properties": {"url": _URL, "narrative": _STR}},
        },
        "allowDuplicateAwards": {"type": "boolean"},
        "badgeclass": _STR,
        "badgeclassName": _STR,
        "badgeclassOpenBadgeId": _URL,
    },
    "required": ["recipient"],
}
_COLLECTION: Final = {
    "type": "object",
    "properties": {
        "name": _STR,
        "description": _STR,
        "published": {"type": "boolean"},
        "assertions": {"type": "array", "items": _STR},
    },
    "required": ["name"],
}
_TOKEN: Final = {
    "type": "object",
    "properties": {
        "grant_type": {"enum": ["password", "refresh_token", "authorization_code"]},
        "username": _STR,
        "password": _STR,
        "refresh_token": _STR,
        "client_id": _STR,
        "code": _STR,
        "redirect_uri": _URL,
        "code_verifier": _STR,
        "scope": _STR,
    },
}

_REGISTRATION: Final = {
    "type": "object",
    "properties": {
        "client_name": _STR,
        "client_uri": _URL,
        "logo_uri": _URL,
        "tos_uri": _URL,
        "policy_uri": _URL,
        "software_id": _STR,
        "software_version": _STR,
        "redirect_uris": {"type": "array", "items": _URL},
        "token_endpoint_auth_method": {"enum": ["client_secret_basic"]},
        "grant_types": {
            "type": "array",
            "items": {"enum": ["authorization_code", "refresh_token"]},
        },
        "response_types": {"type": "array", "items": {"enum": ["code"]}},
        "scope": _STR,
    },
    "required": [
        "client_name",
        "client_uri",
        "logo_uri",
        "tos_uri",
        "policy_uri",
        "software_id",
        "software_version",
        "redirect_uris",
    ],
}

_JSON_BODIES: Final[dict[str, dict[str, Any]]] = {
    "register": _REGISTRATION,
    "assertions.create": {
        "type": "object",
        "properties": {
            "assertion": {
                "type": "object",
                "properties": {"id": _URL, "type": _STR},
                "required": ["id", "type"],
            },
            "signedAssertion": _STR,
        },
    },
    "profile.update": {
        "type": "object",
        "properties": {"name": _STR, "email": {"type": "string", "format": "email"}},
    },
    "issuers.create": _ISSUER,
    "issuers.update": _ISSUER,
    "badgeclasses.create": _BADGECLASS,
    "issuer.badgeclasses.create": _BADGECLASS,
    "badgeclasses.update": _BADGECLASS,
    "badgeclass.assertions.create": _ASSERTION,
    "issuer.assertions.create": _ASSERTION,
    "assertions.update": _ASSERTION,
    "badgeclass.issue": {
        "type": "object",
        "properties": {"assertions": {"type": "array", "items": _ASSERTION}},
        "required": ["assertions"],
    },
    "assertions.revoke": {
        "type": "object",
        "properties": {"revocation_reason": _STR},
        "required": ["revocation_reason"],
    },
    "assertions.revoke_many": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"entityId": _STR, "revocationReason": _STR},
        },
    },
    "backpack.assertions.update": {
        "type": "object",
        "properties": {"acceptance": {"enum": ["Accepted"]}},
        "required": ["acceptance"],
    },
    "backpack.import": {
        "type": "object",
        "properties": {"url": _URL, "image": _STR, "assertion": {"type": "object"}},
    },
    "backpack.collections.create": _COLLECTION,
    "backpack.collections.update": _COLLECTION,
}
_FORM_BODIES: Final[dict[str, dict[str, Any]]] = {
    "token": _TOKEN,
    "authorize.submit": {
        "type": "object",
        "properties": {
            "response_type": {"enum": ["code"]},
            "client_id": _STR,
            "redirect_uri": _URL,
            "scope": _STR,
            "state": _STR,
            "code_challenge": _STR,
            "code_challenge_method": {"enum": ["S256"]},
            "email": {"type": "string", "format": "email"},
            "password": _STR,
            "consent": {"enum": ["allow", "deny"]},
        },
        "required": ["client_id", "redirect_uri", "consent"],
    },
    "revoke": {
        "type": "object",
        "properties": {
            "token": _STR,
            "token_type_hint": {"enum": ["access_token", "refresh_token"]},
            "client_id": _STR,
            "client_secret": _STR,
        },
        "required": ["token"],
    },
    "convert_email": {
        "type": "object",
        "properties": {"email": {"type": "string", "format": "email"}},
        "required": ["email"],
    },
}


_JWS: Final = {"type": "string", "pattern": "^[a-zA-Z0-9_-]+\\.[a-zA-Z0-9_-]*\\.[a-zA-Z0-9_-]+$"}
_OB3_CREDENTIAL: Final = {
    "type": "object",
    "description": "An AchievementCredential (OpenBadgeCredential) with an embedded proof",
    "properties": {
        "@context": {"type": "array", "items": _STR},
        "id": _STR,
        "type": {"type": "array", "items": _STR},
        "issuer": {"type": "object", "properties": {"id": _STR}},
        "validFrom": _WHEN,
        "credentialSubject": {"type": "object"},
        "proof": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["@context", "type", "issuer", "credentialSubject"],
}
_OB3_PROFILE: Final = {
    "type": "object",
    "properties": {
        "id": _STR,
        "type": {"type": "array", "items": _STR},
        "name": _STR,
        "givenName": _STR,
        "familyName": _STR,
        "email": {"type": "string", "format": "email"},
    },
    "required": ["id", "type"],
}
_OB3_BODIES: Final[dict[str, dict[str, Any]]] = {
    "credentials.upsert": {
        "required": True,
        "content": {
            "application/json": {"schema": _OB3_CREDENTIAL},
            "text/plain": {"schema": _JWS},
        },
    },
    "profile.update": {
        "required": True,
        "content": {"application/json": {"schema": _OB3_PROFILE}},
    },
}


def request_body(name: str, *, ob3: bool = False) -> dict[str, Any] | None:
    """The ``requestBody`` object of endpoint ``name``, or ``None`` when it takes none.

    ``ob3`` names a row of the Open Badges 3.0 API table, whose names repeat others'
    (``profile.update`` takes a whole OB 3.0 Profile there); its OAuth rows take the same
    bodies as Badge Connect's.
    """
    if ob3 and name in _OB3_BODIES:
        return _OB3_BODIES[name]
    if name in _JSON_BODIES:
        media = {"application/json": {"schema": _JSON_BODIES[name]}}
        return {"required": True, "content": media}
    if name in _FORM_BODIES:
        schema = _FORM_BODIES[name]
        media = {
            "application/x-www-form-urlencoded": {"schema": schema},
            "multipart/form-data": {"schema": schema},
            "application/json": {"schema": schema},
        }
        return {"required": True, "content": media}
    return None
