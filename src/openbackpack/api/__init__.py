"""The classes that are Moodle's ``backpack_api``, one module per API generation.

- :mod:`openbackpack.api.backpack`: :class:`BackpackApi` (``backpack_api`` for Displayer v1
  and Badgr v2), and :mod:`openbackpack.api.backpack_async`: :class:`AsyncBackpackApi`, the
  same class for ``async`` code; both over one pure core.
- :mod:`openbackpack.api.badgeconnect`: :class:`BadgeConnectApi` (``backpack_api2p1``), with
  discovery and registration in :mod:`openbackpack.api.discovery`.

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

__all__ = [
    "AsyncBackpackApi",
    "Authentication",
    "BackpackApi",
    "BadgeConnectApi",
    "BadgeFailure",
    "CollectionBadges",
    "CollectionRef",
    "ExternalBadge",
]
