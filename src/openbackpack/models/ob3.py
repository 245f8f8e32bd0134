"""Typed Open Badges 3.0 documents (W3C Verifiable Credentials): OpenBadgeCredential & co.

Field names are Python's (``valid_from``); the wire names are camelCase (``validFrom``) and
``@context``. Every model keeps properties it does not know (``extra="allow"``). The VC Data
Model 2.0 dates (``validFrom``/``validUntil``) are written; 1.1's ``issuanceDate`` and
``expirationDate`` are read too (:attr:`OpenBadgeCredential.starts` gives either).

These models describe documents; they prove nothing. A credential's proof is checked by
:func:`openbackpack.credentials.verify_credential`, which reads the fields it relies on from
the signed data, never from a model built from unsigned JSON.

.. versionadded:: 0.1
"""

from openbackpack.models._ob3 import (
    OB3_CONTEXT,
    VC1_CONTEXT,
    VC2_CONTEXT,
    Achievement,
    AchievementCredential,
    AchievementSubject,
    Alignment,
    CredentialSchema,
    CredentialStatus,
    Criteria,
    DataIntegrityProof,
    EndorsementCredential,
    EndorsementSubject,
    Evidence,
    IdentityObject,
    Image,
    Ob3Model,
    OpenBadgeCredential,
    Profile,
    Result,
)

__all__ = [
    "OB3_CONTEXT",
    "VC1_CONTEXT",
    "VC2_CONTEXT",
    "Achievement",
    "AchievementCredential",
    "AchievementSubject",
    "Alignment",
    "CredentialSchema",
    "CredentialStatus",
    "Criteria",
    "DataIntegrityProof",
    "EndorsementCredential",
    "EndorsementSubject",
    "Evidence",
    "IdentityObject",
    "Image",
    "Ob3Model",
    "OpenBadgeCredential",
    "Profile",
    "Result",
]
