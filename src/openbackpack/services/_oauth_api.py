"""The API class of a user's OAuth 2 backpack account, whichever generation it speaks."""

from __future__ import annotations

from openbackpack.api import BadgeConnectApi, Ob3Api
from openbackpack.client import BackpackClient
from openbackpack.models import ApiVersion
from openbackpack.store import BackpackAccount, Provider, Store

__all__ = ["oauth_api"]


def oauth_api(
    provider: Provider, account: BackpackAccount, store: Store, client: BackpackClient | None
) -> BadgeConnectApi | Ob3Api:
    """``Ob3Api`` for a 3.0 backpack, else ``BadgeConnectApi`` (Badge Connect 2.1).

    Raises:
        UnsupportedActionError: the backpack connects without OAuth (v1, v2).
    """
    if provider.api_version is ApiVersion.V3P0:
        return Ob3Api(provider, account, store=store, client=client)
    return BadgeConnectApi(provider, account, store=store, client=client)
