"""The half of the OB 3.0 API classes that both twins share and that never touches the network.

It builds the requests of ``getCredentials``, ``upsertCredential``, ``getProfile`` and
``putProfile`` from the protocol table (:mod:`openbackpack.protocols.ob3api`), reads their
answers with the table's interpreters, decides where the next page is, and turns a refusal
for want of a scope into :class:`~openbackpack.ScopeNotGrantedError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar
from urllib.parse import urljoin

from openbackpack._exceptions import (
    APIStatusError,
    InvalidResponseError,
    PermissionDeniedError,
    ScopeNotGrantedError,
    UnsupportedActionError,
)
from openbackpack.api._tokens import REFRESH_LEEWAY, Http, TokenCore
from openbackpack.client import Answer, Outgoing
from openbackpack.models import ApiVersion
from openbackpack.models.ob3 import Profile
from openbackpack.protocols import build_url, origin_of
from openbackpack.protocols import ob3api as ob3
from openbackpack.store import BackpackAccount, Provider, Store

__all__ = ["MAX_PAGES", "SCOPES", "Credential", "Ob3Core"]

MAX_PAGES: Final = 10_000
"""A bound on the pages of one listing, against a host whose ``next`` links never end."""

Credential = dict[str, Any] | str
"""A credential as the API carries it: a JSON object, or a compact JWS (VC-JWT)."""

_T = TypeVar("_T")

SCOPES: Final[Mapping[str, ob3.Scope]] = {
    "credentials.list": ob3.Scope.CREDENTIAL_READONLY,
    "credentials.upsert": ob3.Scope.CREDENTIAL_UPSERT,
    "profile.get": ob3.Scope.PROFILE_READONLY,
    "profile.update": ob3.Scope.PROFILE_UPDATE,
}
"""The scope each resource route needs."""


def _with_body(outgoing: Outgoing, headers: Mapping[str, str], content: bytes) -> Outgoing:
    # The table's JSON encoding does not cover a VC-JWT sent as text/plain.
    return dataclasses.replace(outgoing, headers={**outgoing.headers, **headers}, content=content)


class Ob3Core:
    """The state and pure decisions of one account on an OB 3.0 API host."""

    def __init__(
        self,
        provider: Provider,
        account: BackpackAccount,
        store: Store,
        leeway: timedelta = REFRESH_LEEWAY,
    ) -> None:
        if provider.api_version is not ApiVersion.V3P0:
            raise UnsupportedActionError("the Open Badges 3.0 API", provider.api_version.value)
        self.tokens = TokenCore(provider, account, store, leeway)

    @property
    def store(self) -> Store:
        """The store of the account's tokens."""
        return self.tokens.store

    @property
    def key(self) -> tuple[int, int]:
        """What the refresh lock is keyed by: (provider, account)."""
        return self.tokens.key

    # --- requests ---------------------------------------------------------------------

    @staticmethod
    def first_page_url(
        api_base: str,
        limit: int | None = None,
        offset: int | None = None,
        since: datetime | None = None,
    ) -> str:
        """The URL of the first ``getCredentials`` page (``limit``, ``offset``, ``since``)."""
        query = ob3.credentials_query(limit, offset, since)
        return build_url(ob3.route("credentials.list"), api_base, query=query)

    @staticmethod
    def request(http: Http, name: str, url: str, token: str) -> Outgoing:
        """A bodiless request of route ``name`` to ``url`` with the bearer token."""
        return http.outgoing_to(ob3.route(name), url, token=token)

    @staticmethod
    def upsert_request(http: Http, api_base: str, credential: Credential, token: str) -> Outgoing:
        """``POST /credentials``: JSON, or a compact JWS as ``text/plain``.

        Raises:
            InvalidInputError: text that is not a compact JWS.
        """
        headers, content = ob3.upsert_body(credential)
        endpoint = ob3.route("credentials.upsert")
        outgoing = http.outgoing_to(endpoint, build_url(endpoint, api_base), token=token)
        return _with_body(outgoing, headers, content)

    @staticmethod
    def profile_request(
        http: Http, api_base: str, profile: Profile | Mapping[str, Any], token: str
    ) -> Outgoing:
        """``PUT /profile`` with the whole profile."""
        endpoint = ob3.route("profile.update")
        outgoing = http.outgoing_to(endpoint, build_url(endpoint, api_base), token=token)
        return _with_body(outgoing, {"Content-Type": "application/json"}, ob3.profile_body(profile))

    # --- answers ----------------------------------------------------------------------

    def page(self, answer: Answer) -> ob3.CredentialsPage:
        """Read a ``getCredentials`` page (a refusal raises its typed error)."""
        return self._scoped("credentials.list", ob3.credentials_page_of, answer)

    def upserted(self, answer: Answer) -> ob3.UpsertResult:
        """Read an ``upsertCredential`` answer: ``created`` (201) or replaced (200)."""
        return self._scoped("credentials.upsert", ob3.upsert_result, answer)

    def profile(self, answer: Answer, name: str = "profile.get") -> Profile:
        """Read a ``getProfile`` / ``putProfile`` answer."""
        return self._scoped(name, ob3.profile_of, answer)

    def _scoped(
        self, name: str, read: Callable[[int, bytes, Mapping[str, str]], _T], answer: Answer
    ) -> _T:
        try:
            return read(answer.status_code, answer.content, answer.headers)
        except APIStatusError as exc:
            raise self.scope_error(name, exc) from None

    def scope_error(self, name: str, error: APIStatusError) -> APIStatusError:
        """A refusal of route ``name`` as :class:`ScopeNotGrantedError` when its scope is missing.

        A 403 (or a 401 naming ``insufficient_scope``) for an action whose scope the stored
        token lacks says what to do; any other error is returned as it is.
        """
        scope = SCOPES[name].value
        insufficient = isinstance(error, PermissionDeniedError) or (
            error.status_code == 401 and "insufficient_scope" in str(error.body)
        )
        with self.store.transaction() as tx:
            token = tx.oauth_tokens.get(self.tokens.account.id)
        granted = token.scope.split() if token is not None else []
        if not insufficient or scope in granted:
            return error
        return ScopeNotGrantedError(
            f"{name}: the backpack did not grant {scope.rsplit('/', 1)[-1]} to this site; "
            "connect again and allow it",
            scope=scope,
            status_code=error.status_code,
            action=name,
            description=error.description,
            body=error.body,
        )

    @staticmethod
    def next_url(url: str, page: ob3.CredentialsPage, api_base: str, seen: set[str]) -> str | None:
        """The next page's URL from ``Link``, never computed; it must stay on the API's origin.

        Raises:
            InvalidResponseError: the next page is on another origin (the token goes with it).
        """
        target = page.next_url
        if not target:
            return None
        target = urljoin(url, target)
        if origin_of(target) != origin_of(api_base):
            raise InvalidResponseError(
                f"the next page is on another origin ({origin_of(target)}); not following it",
                action="credentials.list",
            )
        # A host that links a page to itself (or back) would loop: stop there.
        return None if target in seen else target

    @staticmethod
    def items(page: ob3.CredentialsPage) -> list[Credential]:
        """A page's credentials: the JSON ones, then the VC-JWTs."""
        return [*page.credentials, *page.compact_jws]
