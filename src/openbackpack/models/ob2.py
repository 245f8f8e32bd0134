"""Typed Open Badges 2.0 documents: Assertion, BadgeClass, Profile (Issuer), Endorsement...

Field names are Python's (``issued_on``); the wire names are the specification's camelCase
(``issuedOn``) and ``@context``/``@language``. Every model keeps properties it does not know
(``extra="allow"``), because Open Badges is JSON-LD and extensions are legal anywhere.

Read a document with ``Assertion.model_validate(data)`` and write one with
:meth:`Ob2Model.to_json`, which drops absent (None) properties.

.. versionadded:: 0.1
"""

from openbackpack.models._ob2 import (
    OB2_CONTEXT,
    AlignmentObject,
    Assertion,
    BadgeClass,
    Criteria,
    Endorsement,
    EndorsementClaim,
    Evidence,
    IdentityObject,
    Image,
    Ob2Model,
    Profile,
    Related,
    RevocationList,
    RevokedAssertion,
    RevokedEntry,
    VerificationObject,
)

__all__ = [
    "OB2_CONTEXT",
    "AlignmentObject",
    "Assertion",
    "BadgeClass",
    "Criteria",
    "Endorsement",
    "EndorsementClaim",
    "Evidence",
    "IdentityObject",
    "Image",
    "Ob2Model",
    "Profile",
    "Related",
    "RevocationList",
    "RevokedAssertion",
    "RevokedEntry",
    "VerificationObject",
]
