"""Moving a learner's badges from one backpack to another, each verified, none lost.

A move reads a :class:`Source` (a Badgr v2 backpack, a Badge Connect 2.1 account, an Open
Badges 3.0 account, files),
verifies and classifies every badge, plans what a :class:`Target` can take, sends each
badge once under a claim in the store, and proves the result by reading the target back.
See ``docs/move.md``.
"""

from __future__ import annotations

from openbackpack.client import BackpackClient
from openbackpack.models import ApiVersion
from openbackpack.services._collections import account_of
from openbackpack.services._errors import NotConnectedError
from openbackpack.services.move._backpacks import BadgeConnectBackpack, BadgrBackpack
from openbackpack.services.move._fetch import client_fetch
from openbackpack.services.move._files import FileSource
from openbackpack.services.move._interfaces import Source, Target
from openbackpack.services.move._model import (
    Action,
    BadgeFacts,
    HeldBadge,
    MoveItem,
    MoveReport,
    Proof,
    SourceBadge,
    SourceDeletionUnsupportedError,
    Verdict,
)
from openbackpack.services.move._ob3 import Ob3Backpack
from openbackpack.services.move._run import (
    DEFAULT_MOVE_CONCURRENCY,
    DEFAULT_RESEND,
    move_badges,
    prove,
)
from openbackpack.store import Store

__all__ = [
    "DEFAULT_MOVE_CONCURRENCY",
    "DEFAULT_RESEND",
    "Action",
    "BadgeConnectBackpack",
    "BadgeFacts",
    "BadgrBackpack",
    "FileSource",
    "HeldBadge",
    "MoveItem",
    "MoveReport",
    "Ob3Backpack",
    "Proof",
    "Source",
    "SourceBadge",
    "SourceDeletionUnsupportedError",
    "Target",
    "Verdict",
    "client_fetch",
    "connected_backpack",
    "move_badges",
    "prove",
]


def connected_backpack(
    store: Store, owner: str, provider_id: int | None, client: BackpackClient
) -> BadgrBackpack | BadgeConnectBackpack | Ob3Backpack:
    """The user's account on ``provider_id`` (or their only one) as a source or target.

    Raises:
        NotConnectedError: no such account, or a Displayer (v1) one, which can only be read
            by published group and cannot take badges.
    """
    provider, account = account_of(store, owner, provider_id)
    if provider.api_version is ApiVersion.V2:
        return BadgrBackpack(store, provider, account, client)
    if provider.api_version is ApiVersion.V2P1:
        return BadgeConnectBackpack(store, provider, account, client)
    if provider.api_version is ApiVersion.V3P0:
        return Ob3Backpack(store, provider, account, client)
    raise NotConnectedError(
        f"backpack {provider.id} speaks API {provider.api_version.value}; moving badges needs "
        "a Badgr (v2), Badge Connect (2.1) or Open Badges 3.0 backpack"
    )
