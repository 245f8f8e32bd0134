"""Typed, pure data for openbackpack: API versions and Open Badges documents.

Nothing here performs I/O or imports the client, store or host.
"""

from openbackpack.models._base import WireModel
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
    "Recipient",
    "RemoteAssertion",
    "RemoteBadgeClass",
    "RemoteIssuer",
    "TokenGrant",
    "WireModel",
]
