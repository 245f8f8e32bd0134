"""Moving a learner's badges from one backpack to another, each verified, none lost.

A move reads a :class:`Source` (a Badgr v2 backpack, a Badge Connect 2.1 account, an Open
Badges 3.0 account, files),
verifies and classifies every badge, plans what a :class:`Target` can take, sends each
badge once under a claim in the store, and proves the result by reading the target back.
See ``docs/move.md``.
"""

from __future__ import annotations

import typing

from openbackpack import _lazy

if typing.TYPE_CHECKING:
    from openbackpack.services.move._backpacks import BadgeConnectBackpack, BadgrBackpack
    from openbackpack.services.move._connected import connected_backpack
    from openbackpack.services.move._fetch import client_fetch
    from openbackpack.services.move._files import FileSource
    from openbackpack.services.move._interfaces import Source, Target
    from openbackpack.services.move._model import (
        DEFAULT_MOVE_CONCURRENCY,
        DEFAULT_RESEND,
        Action,
        BadgeFacts,
        HeldBadge,
        MoveItem,
        MoveReport,
        Proof,
        Reissue,
        SourceBadge,
        SourceDeletionUnsupportedError,
        Verdict,
    )
    from openbackpack.services.move._ob3 import Ob3Backpack
    from openbackpack.services.move._prove import prove
    from openbackpack.services.move._run import move_badges


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
    "Reissue",
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

__getattr__, __dir__ = _lazy.lazy_exports(__name__, __file__)
