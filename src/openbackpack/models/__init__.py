"""Typed, pure data for openbackpack: API versions and Open Badges documents.

Nothing here performs I/O or imports the client, store or host. The Open Badges 2.0 documents
live in :mod:`openbackpack.models.ob2`.
"""

from openbackpack.models._base import WireModel
from openbackpack.models._recipient import (
    HashAlgorithm,
    RecipientMatch,
    hash_identity,
    match_recipient,
)
from openbackpack.models._version import ApiVersion
from openbackpack.models.backpack import (
    Alignment,
    Collection,
    DisplayerBadge,
    DisplayerGroup,
    DisplayerUser,
    Recipient,
    RemoteAssertion,
    RemoteBadgeClass,
    RemoteIssuer,
    TokenGrant,
)

__all__ = [
    "Alignment",
    "ApiVersion",
    "Collection",
    "DisplayerBadge",
    "DisplayerGroup",
    "DisplayerUser",
    "HashAlgorithm",
    "Recipient",
    "RecipientMatch",
    "RemoteAssertion",
    "RemoteBadgeClass",
    "RemoteIssuer",
    "TokenGrant",
    "WireModel",
    "hash_identity",
    "match_recipient",
]
