"""The classes that are Moodle's ``backpack_api``, one module per API generation.

- :mod:`openbackpack.api.backpack`: :class:`BackpackApi` (``backpack_api`` for Displayer v1
  and Badgr v2), and :mod:`openbackpack.api.backpack_async`: :class:`AsyncBackpackApi`, the
  same class for ``async`` code; both over one pure core.
- :mod:`openbackpack.api.badgeconnect`: :class:`BadgeConnectApi` (``backpack_api2p1``), with
  discovery and registration in :mod:`openbackpack.api.discovery`.
- :mod:`openbackpack.api.ob3`: :class:`Ob3Api`, a user's account on an Open Badges 3.0 API host,
  and :mod:`openbackpack.api.ob3_async`: :class:`AsyncOb3Api`, its ``async`` twin; both over
  one pure core, with the OAuth 2 tokens handled as for Badge Connect.

Everything is re-exported here and from :mod:`openbackpack`, so ``from openbackpack.api import
BackpackApi`` keeps working.
"""

from openbackpack.api._core import (
    Authentication,
    BadgeFailure,
    CollectionBadges,
    CollectionRef,
    ExternalBadge,
)
from openbackpack.api.backpack import BackpackApi
from openbackpack.api.backpack_async import AsyncBackpackApi
from openbackpack.api.badgeconnect import BadgeConnectApi
from openbackpack.api.ob3 import Ob3Api
from openbackpack.api.ob3_async import AsyncOb3Api

__all__ = [
    "AsyncBackpackApi",
    "AsyncOb3Api",
    "Authentication",
    "BackpackApi",
    "BadgeConnectApi",
    "BadgeFailure",
    "CollectionBadges",
    "CollectionRef",
    "ExternalBadge",
    "Ob3Api",
]
