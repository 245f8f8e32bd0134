"""What a failed backpack call says to a person: the step in their words, and the reasons.

Protocol action names (``user``, ``importbadge``, ``assertions.create``) are for code; the
messages built here say what the user was doing ("log in", "import the badge") and carry
the backpack's own reasons, which Badgr hides behind a generic ``bad request``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from openbackpack.protocols._redact import redact

__all__ = ["action_words", "failure_message", "reasons_text"]

_WORDS: Final[Mapping[str, str]] = {
    "user": "log in",
    "token": "log in",
    "refresh": "renew the login",
    "collections": "read the collections",
    "groups": "read the collections",
    "badges": "read the badges",
    "assertion": "read the badge",
    "importbadge": "import the badge",
    "issuers": "create the issuer",
    "badgeclasses": "create the badge class",
    "assertions": "award the badge",
    "updateassertion": "update the award",
    "manifest": "read the Badge Connect manifest",
    "register": "register this site as a Badge Connect client",
    "revoke": "revoke the token",
    "assertions.list": "read the badges",
    "assertions.create": "add the badge",
    "profile.get": "read the profile",
    "profile.update": "update the profile",
    "convert_email": "find the account of that email",
    "discovery": "read the Open Badges 3.0 service description",
    "credentials.list": "read the credentials",
    "credentials.upsert": "add the credential",
}

# Badgr's (and DRF's) status texts that say nothing the status code does not.
_GENERIC: Final = frozenset(
    {"bad request", "miscellaneous error", "error", "", "bad_request", "request"}
)


def action_words(action: str | None) -> str:
    """The step a protocol action stands for, as a user would say it ("log in")."""
    if not action:
        return "answer the request"
    return _WORDS.get(action, f"do {action.replace('.', ' ').replace('_', ' ')}")


def reasons_text(
    description: str,
    field_errors: Mapping[str, Sequence[str]] | None = None,
    validation_errors: Sequence[str] = (),
) -> str:
    """The backpack's reasons in one line, ``;``-separated.

    Its own description unless generic, then the whole-object messages, then
    ``field: message`` for each field (``non_field_errors`` lose the name, which means
    nothing to a user).
    """
    parts: list[str] = []
    if description.strip().lower() not in _GENERIC:
        parts.append(description.strip())
    parts.extend(text.strip() for text in validation_errors if text.strip())
    for field, messages in (field_errors or {}).items():
        name = field.removesuffix("non_field_errors").rstrip(".")
        for text in messages:
            parts.append(f"{name}: {text}" if name and name != "detail" else text)
    return redact("; ".join(dict.fromkeys(part for part in parts if part)))


def failure_message(
    action: str | None, status_code: int, reasons: str, *, login_refused: bool = False
) -> str:
    """The message of an error answer: what was refused, the HTTP status, and why."""
    words = action_words(action)
    if login_refused:
        head = f"the backpack did not accept the login (HTTP {status_code})"
        if action in ("user", "token"):
            head = f"the backpack did not accept the email and password (HTTP {status_code})"
        elif action == "refresh":
            head = f"the backpack no longer accepts this login (HTTP {status_code})"
    elif status_code == 429:
        head = f"the backpack asks to slow down: it would not {words} now (HTTP 429)"
    elif status_code >= 500:
        head = (
            f"the backpack failed with a server error while trying to {words} (HTTP {status_code})"
        )
    elif status_code == 404:
        head = f"the backpack could not {words}: not found, or not allowed (HTTP 404)"
    else:
        head = f"the backpack refused to {words} (HTTP {status_code})"
    return f"{head}: {reasons}" if reasons else head
