"""The move's source or target for a learner's connected backpack, by the API it speaks."""

from __future__ import annotations

from openbackpack.client import BackpackClient
from openbackpack.models import ApiVersion
from openbackpack.services._collections import account_of
from openbackpack.services._errors import NotConnectedError
from openbackpack.services.move._backpacks import BadgeConnectBackpack, BadgrBackpack
from openbackpack.services.move._ob3 import Ob3Backpack
from openbackpack.store import Store

__all__ = ["connected_backpack"]


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
