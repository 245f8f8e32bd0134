"""The OAuth 2 servers the host runs, one per API generation, described as data.

Badge Connect (2.1) and the Open Badges 3.0 API share one implementation of registration,
the login and consent page, the code and refresh grants and revocation; what differs is
here: the scopes offered, where the pages are, which scope (if any) a refresh token needs.
A client registers for one API and is known to that API's endpoints only, so a Badge
Connect client cannot trade its codes at the 3.0 token endpoint, nor the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from openbackpack.host._settings import HostSettings
from openbackpack.protocols import badgeconnect, ob3api
from openbackpack.protocols.badgeconnect import Scope as BcScope
from openbackpack.protocols.ob3api import Scope as Ob3Scope

__all__ = ["BADGE_CONNECT", "OB3", "OAuthApi"]


@dataclass(frozen=True, slots=True)
class OAuthApi:
    """One API's OAuth 2 server: its scopes, pages and refresh rule.

    Attributes:
        key: stored with each registered client (``host_oauth_clients.api``).
        scopes: the scopes offered in the specification's mode, in order.
        badgr_scopes: the scopes offered in Badgr mode (Badge Connect only).
        authorize_path: where the login and consent form posts to.
        descriptions: each scope in the user's words, for the consent page.
        refresh_scope: the scope a token needs for its refresh token to be handed out
            (Badge Connect: ``offline_access``); None when registering the refresh grant is
            enough (the 3.0 API has no such scope).
        realm: the ``WWW-Authenticate`` realm of client authentication failures.
        follows_badgr: whether Badgr mode changes this server's behaviour.
    """

    key: str
    scopes: tuple[str, ...]
    badgr_scopes: tuple[str, ...]
    authorize_path: str
    descriptions: Mapping[str, str]
    refresh_scope: str | None
    realm: str
    follows_badgr: bool

    def offered(self, settings: HostSettings) -> tuple[str, ...]:
        """The scopes offered in the host's mode."""
        return self.badgr_scopes if self.badgr(settings) else self.scopes

    def badgr(self, settings: HostSettings) -> bool:
        """Whether this server answers as Badgr does under these settings."""
        return self.follows_badgr and settings.badgr_quirks


_BC_SCOPES: Final = tuple(scope.value for scope in BcScope)

BADGE_CONNECT: Final = OAuthApi(
    key="v2p1",
    scopes=_BC_SCOPES,
    badgr_scopes=_BC_SCOPES[:3],
    authorize_path=badgeconnect.route("authorize.submit").path,
    descriptions={
        BcScope.ASSERTION_READONLY.value: "read the badges in your backpack",
        BcScope.ASSERTION_CREATE.value: "add badges to your backpack",
        BcScope.PROFILE_READONLY.value: "read your name and e-mail address",
        BcScope.PROFILE_UPDATE.value: "change your profile",
        BcScope.OFFLINE_ACCESS.value: "keep access when you are not using it",
    },
    refresh_scope=BcScope.OFFLINE_ACCESS.value,
    realm="badgeconnect",
    follows_badgr=True,
)
"""Badge Connect 2.1 (in Badgr mode: Badgr's three scopes, optional PKCE)."""

OB3: Final = OAuthApi(
    key="v3p0",
    scopes=tuple(scope.value for scope in Ob3Scope),
    badgr_scopes=tuple(scope.value for scope in Ob3Scope),
    authorize_path=ob3api.route("authorize.submit").path,
    descriptions={
        Ob3Scope.CREDENTIAL_READONLY.value: "read the credentials in your backpack",
        Ob3Scope.CREDENTIAL_UPSERT.value: "add credentials to your backpack, or replace them",
        Ob3Scope.PROFILE_READONLY.value: "read your profile (name and e-mail address)",
        Ob3Scope.PROFILE_UPDATE.value: "change your profile",
    },
    refresh_scope=None,
    realm="ob3",
    follows_badgr=False,
)
"""The Open Badges 3.0 API: always the specification's behaviour, PKCE S256 required."""
