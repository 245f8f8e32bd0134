"""Site settings (Moodle's ``admin/settings/badges.php``) and the external-backpacks switch.

``allow_external_backpacks`` gates, as ``badges_allowexternalbackpack`` does in Moodle, every
page that talks to external backpacks: each learner flow (connecting, verifying, collections,
external badges, pushing) and every action of the site-backpack admin pages. Disconnecting
and cancelling stay allowed, so that a user can always take their data back, and so do the
privacy export and erasure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import asdict
from typing import Final
from urllib.parse import urlsplit

from openbackpack._exceptions import InvalidInputError
from openbackpack.services._errors import ExternalBackpacksDisabledError
from openbackpack.services._verification_mail import VERIFICATION_PLACEHOLDERS, check_template_text
from openbackpack.store import SiteSettings, Store, Transaction

__all__ = [
    "SETTING_KEYS",
    "require_external_backpacks",
    "set_site_setting",
    "settings_as_dict",
    "site_settings",
]

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def _boolean(key: str, value: str) -> bool:
    folded = value.strip().casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise InvalidInputError(f"{key} takes true or false (or 1/0, yes/no, on/off), not {value!r}")


def _text(_key: str, value: str) -> str:
    return value


def _template(key: str, value: str) -> str:
    # Checked here, on the way in, so that no stored template can break a later mail.
    if key.endswith("_subject") and ("\n" in value or "\r" in value):
        raise InvalidInputError(f"{key} must be one line")
    return check_template_text(key, value, VERIFICATION_PLACEHOLDERS)


def _https_url(key: str, value: str) -> str:
    # Badge Connect hosts (Badgr) refuse a registration whose URLs are not https.
    value = value.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise InvalidInputError(
            f"{key} must be an https URL without query or fragment, not {value!r}"
        )
    return value


def _loopback(host: str) -> bool:
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _site_url(key: str, value: str) -> str:
    # The pages build their OAuth callback on it: https for a real site, or plain http on
    # this machine's loopback (a demo or a test), which browsers and RFC 8252 treat as safe.
    value = value.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    plain_loopback = parts.scheme == "http" and _loopback(parts.hostname or "")
    if (
        (parts.scheme != "https" and not plain_loopback)
        or not parts.hostname
        or parts.query
        or parts.fragment
    ):
        raise InvalidInputError(
            f"{key} must be an https URL (or http on a loopback address) without query or "
            f"fragment, not {value!r}"
        )
    return value


_PARSERS: Final[dict[str, Callable[[str, str], object]]] = {
    "allow_external_backpacks": _boolean,
    "default_issuer_name": _text,
    "default_issuer_contact": _text,
    "verification_email_subject": _template,
    "verification_email_body": _template,
    "site_url": _site_url,
    "site_logo_url": _https_url,
}

SETTING_KEYS: Final = tuple(sorted(_PARSERS))
"""The settings ``set_site_setting`` (and ``openbackpack settings set``) can change.

The badge salt is shown but not settable: it hashes every recipient this site has issued to.
"""


def require_external_backpacks(tx: Transaction) -> None:
    """Raise :class:`ExternalBackpacksDisabledError` if the site switched external backpacks off."""
    if not tx.settings.get().allow_external_backpacks:
        # Neutral words: platforms may show this to learners, who have no command line.
        raise ExternalBackpacksDisabledError(
            "external backpacks are switched off on this site "
            "(site setting allow_external_backpacks)"
        )


def site_settings(store: Store) -> SiteSettings:
    """Return the site settings, defaults filled in."""
    with store.transaction() as tx:
        return tx.settings.get()


def set_site_setting(store: Store, key: str, value: str) -> SiteSettings:
    """Change one setting from its text form (as typed on a command line); return them all.

    Raises:
        InvalidInputError: an unknown key, or a value the key cannot take (a boolean that is
            not true/false, a contact that is not an email address, a template with an
            unknown placeholder).
    """
    parser = _PARSERS.get(key)
    if parser is None:
        known = ", ".join(SETTING_KEYS)
        raise InvalidInputError(f"unknown setting {key!r}: expected one of {known}")
    parsed = parser(key, value)
    with store.transaction() as tx:
        return tx.settings.update(**{key: parsed})  # type: ignore[arg-type]


def settings_as_dict(settings: SiteSettings) -> dict[str, object]:
    """The settings as a plain mapping, for JSON and tables."""
    return asdict(settings)
