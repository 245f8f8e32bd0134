"""The backpack API generations openbackpack speaks."""

from __future__ import annotations

import enum
from decimal import Decimal, InvalidOperation

from openbackpack._exceptions import InvalidApiVersionError

__all__ = ["ApiVersion"]


class ApiVersion(enum.StrEnum):
    """A backpack API generation, as stored in a site backpack record.

    ``V1`` is the Mozilla Displayer API, ``V2`` Badgr's v2 REST API and ``V2P1`` the
    1EdTech Open Badges 2.1 "Badge Connect" API.
    """

    V1 = "1"
    V2 = "2"
    V2P1 = "2.1"

    @classmethod
    def parse(cls, value: object) -> ApiVersion:
        """Read a version loosely, as Moodle compares them: ``'1'``, ``'1.0'``, ``2``, ``'2.1'``...

        Raises:
            InvalidApiVersionError: for anything that is not one of 1, 2 or 2.1.
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise InvalidApiVersionError(value)
        try:
            # Decimal of the text form, so that the float 2.1 and the string "2.10" agree.
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise InvalidApiVersionError(value) from None
        for member in cls:
            if number == Decimal(member.value):
                return member
        raise InvalidApiVersionError(value)
