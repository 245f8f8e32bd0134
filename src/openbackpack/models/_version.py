"""The backpack API generations openbackpack speaks."""

from __future__ import annotations

import enum
import re
from decimal import Decimal, InvalidOperation

from openbackpack._exceptions import InvalidApiVersionError

__all__ = ["ApiVersion"]

_SPEC_SPELLING = re.compile(r"v(\d+)p(\d+)", re.IGNORECASE)


class ApiVersion(enum.StrEnum):
    """A backpack API generation, as stored in a site backpack record.

    ``V1`` is the Mozilla Displayer API, ``V2`` Badgr's v2 REST API, ``V2P1`` the 1EdTech
    Open Badges 2.1 "Badge Connect" API and ``V3P0`` the Open Badges 3.0 API (``/ims/ob/v3p0``).
    """

    V1 = "1"
    V2 = "2"
    V2P1 = "2.1"
    V3P0 = "3.0"

    @property
    def uses_oauth(self) -> bool:
        """Whether users connect with OAuth 2 (Badge Connect and the OB 3.0 API)."""
        return self in (ApiVersion.V2P1, ApiVersion.V3P0)

    @classmethod
    def parse(cls, value: object) -> ApiVersion:
        """Read a version loosely, as Moodle compares them: ``'1'``, ``'1.0'``, ``2``, ``'2.1'``...

        The specifications' spelling (``v2p1``, ``v3p0``) is read too.

        Raises:
            InvalidApiVersionError: for anything that is not one of 1, 2, 2.1 or 3.0.
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise InvalidApiVersionError(value)
        if isinstance(value, str):
            spelled = _SPEC_SPELLING.fullmatch(value.strip())
            if spelled:
                value = f"{spelled.group(1)}.{spelled.group(2)}"
        try:
            # Decimal of the text form, so that the float 2.1 and the string "2.10" agree.
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise InvalidApiVersionError(value) from None
        for member in cls:
            if number == Decimal(member.value):
                return member
        raise InvalidApiVersionError(value)
