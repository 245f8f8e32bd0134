"""The email that carries a backpack verification code, from a template a platform can own.

Templates use :class:`string.Template` syntax (``$code`` or ``${code}``; ``$$`` is a dollar).
The placeholders are :data:`VERIFICATION_PLACEHOLDERS`:

* ``$code``: the verification code;
* ``$url``: the verification link (the platform's ``verify_url`` with ``$code`` filled in,
  URL-encoded), or empty when the platform gave none;
* ``$instructions``: one sentence telling the user what to do: open ``$url`` when there is
  one, else enter the code where they asked for the connection;
* ``$backpack``: the backpack's web address; ``$email``: the address being verified;
* ``$hours``: how many hours the code stays valid.

A template passed by the platform wins over the one stored in the site settings
(``verification_email_subject`` / ``verification_email_body``), which wins over the built-in
text. The built-in text names no command: the user may never have seen a command line.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from openbackpack._exceptions import InvalidInputError
from openbackpack.store import SiteSettings

__all__ = [
    "DEFAULT_VERIFICATION_TEMPLATE",
    "VERIFICATION_PLACEHOLDERS",
    "EmailTemplate",
    "check_template_text",
    "verification_template",
]

VERIFICATION_PLACEHOLDERS: Final = ("backpack", "code", "email", "hours", "instructions", "url")
"""The names a verification email template may use."""


def check_template_text(field: str, text: str, allowed: tuple[str, ...]) -> str:
    """Return ``text`` if it is a valid template using only ``allowed`` placeholders.

    Raises:
        InvalidInputError: a malformed ``$`` or a placeholder that is not allowed.
    """
    template = string.Template(text)
    if not template.is_valid():
        raise InvalidInputError(f"{field} is not a valid template: write $$ for a dollar sign")
    unknown = sorted(set(template.get_identifiers()) - set(allowed))
    if unknown:
        names = ", ".join(f"${name}" for name in unknown)
        known = ", ".join(f"${name}" for name in allowed)
        raise InvalidInputError(f"{field} uses unknown placeholder(s) {names}: use {known}")
    return text


@dataclass(frozen=True, slots=True)
class EmailTemplate:
    """A subject and body in :class:`string.Template` syntax, checked when made.

    Raises:
        InvalidInputError: either part uses an unknown placeholder or a malformed ``$``.
    """

    subject: str
    body: str

    def __post_init__(self) -> None:
        """Check both parts against :data:`VERIFICATION_PLACEHOLDERS`."""
        check_template_text("the email subject", self.subject, VERIFICATION_PLACEHOLDERS)
        check_template_text("the email body", self.body, VERIFICATION_PLACEHOLDERS)
        if "\n" in self.subject or "\r" in self.subject:
            raise InvalidInputError("the email subject must be one line")

    def render(self, **fields: str) -> tuple[str, str]:
        """Return the subject and body with ``fields`` filled in."""
        return (
            string.Template(self.subject).substitute(fields),
            string.Template(self.body).substitute(fields),
        )


DEFAULT_VERIFICATION_TEMPLATE: Final = EmailTemplate(
    subject="Badges backpack email verification",
    body=(
        "Someone asked to connect the backpack $backpack to this address ($email).\n\n"
        "Your verification code is: $code\n\n"
        "$instructions\n\n"
        "The code expires in $hours hours. If you did not ask for this, ignore this message.\n"
    ),
)
"""The built-in verification email: it names no command, only the code and (if any) a link."""


def verification_template(settings: SiteSettings, given: EmailTemplate | None) -> EmailTemplate:
    """The template to use: the one given, else the stored one, else the built-in one."""
    if given is not None:
        return given
    return EmailTemplate(
        subject=settings.verification_email_subject or DEFAULT_VERIFICATION_TEMPLATE.subject,
        body=settings.verification_email_body or DEFAULT_VERIFICATION_TEMPLATE.body,
    )


def render_verification(
    template: EmailTemplate,
    *,
    code: str,
    verify_url: str | None,
    backpack: str,
    email: str,
    hours: int,
) -> tuple[str, str]:
    """Fill a verification template; ``verify_url`` may hold ``$code`` (URL-encoded in)."""
    url = ""
    if verify_url:
        url = string.Template(verify_url).safe_substitute(code=quote(code, safe=""))
    instructions = (
        f"To confirm, open this link: {url}"
        if url
        else "To confirm, enter this code where you asked for the connection."
    )
    return template.render(
        code=code,
        url=url,
        instructions=instructions,
        backpack=backpack,
        email=email,
        hours=str(hours),
    )
