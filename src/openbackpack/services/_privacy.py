"""Privacy: export and erase everything the store holds about one user.

Moodle's privacy provider (``badges/classes/privacy/provider.php``) exports the backpack connection
and, on deletion, removes ``badge_external`` and ``badge_backpack`` but leaves the OAuth tokens
behind (W16). Here the export covers every row of the user: accounts, selected collections,
tokens, cached badges, import records, pending email verifications and pending Badge Connect
authorizations; and erasure removes all of them, after revoking the user's Badge Connect
tokens at the hosts that offer revocation (RFC 7009).

Secrets never leave in clear: an export says a password or token is ``"present"``, not what it
is. The site's own accounts, pushes and issuer registry are the site's records, not the user's.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from openbackpack._exceptions import BackpackError, InvalidInputError
from openbackpack.client import BackpackClient
from openbackpack.services._connect import import_key_prefix
from openbackpack.services._oauth_api import oauth_api
from openbackpack.store import SITE_OWNER, BackpackAccount, Provider, Secret, Store, Transaction
from openbackpack.store._types import utcnow
from openbackpack.store._validate import check_owner

__all__ = [
    "ErasureReport",
    "RevocationOutcome",
    "UserDataExport",
    "erase_user_data",
    "export_user_data",
]

_log = logging.getLogger("openbackpack.services")

PRESENT: Final = "present"
"""What an export shows in place of a secret that exists (``None`` when there is none).

Passwords are listed as ``stored_password``: a key named ``password`` is dropped whole from
every JSON the command line prints, and the export must still say that one is stored.
"""


def _secret(value: Secret | str | None) -> str | None:
    return None if value is None or value == "" else PRESENT


@dataclass(frozen=True, slots=True)
class UserDataExport:
    """Everything the store holds about one user, secrets replaced by ``"present"``.

    ``accounts`` holds one mapping per backpack account, each with its provider, selected
    collections, tokens, cached badges and import records.
    """

    owner: str
    exported_at: datetime
    accounts: list[dict[str, Any]]
    pending_verifications: list[dict[str, Any]]
    pending_authorizations: list[dict[str, Any]]
    jobs: list[dict[str, Any]] = field(default_factory=list)
    """The pushes and moves queued for the user (docs/jobs.md), each with its items' outcomes."""


@dataclass(frozen=True, slots=True)
class RevocationOutcome:
    """What happened to one account's tokens at its host before the erasure."""

    account_id: int
    provider_id: int
    revoked: bool
    detail: str


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What :func:`erase_user_data` removed (row counts per kind) and revoked."""

    owner: str
    accounts: int = 0
    selected_collections: int = 0
    tokens: int = 0
    cached_badges: int = 0
    import_records: int = 0
    pending_verifications: int = 0
    pending_authorizations: int = 0
    revocations: list[RevocationOutcome] = field(default_factory=list)
    jobs: int = 0


def _user(owner: str) -> str:
    owner = check_owner(owner)
    if owner == SITE_OWNER:
        raise InvalidInputError("the site's own accounts are not a user's data")
    return owner


def _account_export(
    tx: Transaction, provider: Provider, account: BackpackAccount
) -> dict[str, Any]:
    cached = tx.badge_cache.get(account.id)
    cache_token = tx.token_cache.get(account.id)
    oauth_token = tx.oauth_tokens.get(account.id)
    prefix = import_key_prefix(account.id)
    imports = [
        {
            "award_hash": ident.internal_key.removeprefix(prefix),
            "remote_id": ident.external_id,
            "created_at": ident.created_at,
        }
        for ident in tx.identifiers.list(provider.id)
        if ident.internal_key.startswith(prefix)
    ]
    return {
        "id": account.id,
        "provider": {
            "id": provider.id,
            "web_url": provider.web_url,
            "api_url": provider.api_url,
            "api_version": provider.api_version.value,
        },
        "email": account.email,
        "stored_password": _secret(account.password),
        "remote_user_id": account.remote_user_id,
        "created_at": account.created_at,
        "modified_at": account.modified_at,
        "selected_collections": [c.key for c in tx.collections.list(account.id)],
        "token_cache": None
        if cache_token is None
        else {
            "access_token": PRESENT,
            "refresh_token": _secret(cache_token.refresh_token),
            "expires_at": cache_token.expires_at,
            "modified_at": cache_token.modified_at,
        },
        "oauth_token": None
        if oauth_token is None
        else {
            "access_token": PRESENT,
            "refresh_token": _secret(oauth_token.refresh_token),
            "expires_at": oauth_token.expires_at,
            "scope": oauth_token.scope,
            "created_at": oauth_token.created_at,
            "modified_at": oauth_token.modified_at,
        },
        "cached_badges": None
        if cached is None
        else {"fetched_at": cached[1], "content": json.loads(cached[0])},
        "imports": imports,
    }


def export_user_data(store: Store, owner: str) -> UserDataExport:
    """Return everything the store holds about ``owner`` (no secret in clear).

    Raises:
        InvalidInputError: ``owner`` is not a user id (empty, or the site's own).
    """
    owner = _user(owner)
    with store.transaction() as tx:
        accounts = [
            _account_export(tx, tx.providers.get(account.provider_id), account)
            for account in tx.accounts.list(owner=owner)
        ]
        verifications = [
            {
                "provider_id": pending.provider_id,
                "email": pending.email,
                "stored_password": _secret(pending.password),
                "access_token": _secret(pending.login.access_token if pending.login else None),
                "code": PRESENT,
                "created_at": pending.created_at,
                "expires_at": pending.expires_at,
            }
            for pending in tx.verifications.find(owner)
        ]
        authorizations = [
            {
                "provider_id": pending.provider_id,
                "email": pending.email,
                "redirect_uri": pending.redirect_uri,
                "scope": pending.scope,
                "state": PRESENT,
                "code_verifier": PRESENT,
                "created_at": pending.created_at,
                "expires_at": pending.expires_at,
            }
            for pending in tx.oauth_states.find(owner)
        ]
        jobs = [
            {
                "id": job.id, "kind": job.kind, "state": job.state, "total": job.total,
                "done": job.done, "failed": job.failed, "created_at": job.created_at,
                "finished_at": job.finished_at,
                # A move's options name the learner's other emails: their data too.
                "options": None if job.options is None else dict(job.options),
                "awards": {i.award_hash: i.result or i.status for i in tx.jobs.items(job.id)},
            }
            for job in tx.jobs.recent(owner=owner, limit=1_000_000)
        ]  # fmt: skip
    return UserDataExport(owner, utcnow(), accounts, verifications, authorizations, jobs)


def _revoke(
    store: Store, provider: Provider, account: BackpackAccount, client: BackpackClient | None
) -> RevocationOutcome:
    if not provider.api_version.uses_oauth:
        return RevocationOutcome(
            account.id, provider.id, False, "the backpack's API offers no token revocation"
        )
    try:
        with oauth_api(provider, account, store, client) as api:
            revoked = api.revoke()
    except BackpackError as exc:
        # Erasure must not wait on a host that is down; the token dies there when it expires.
        _log.warning("backpack %s: token revocation failed: %s", provider.id, exc)
        return RevocationOutcome(account.id, provider.id, False, f"revocation failed: {exc}")
    detail = "revoked at the host" if revoked else "the host offers no revocation, or no token"
    return RevocationOutcome(account.id, provider.id, revoked, detail)


def erase_user_data(
    store: Store, owner: str, *, client: BackpackClient | None = None
) -> ErasureReport:
    """Erase everything the store holds about ``owner``; revoke their tokens first.

    Badge Connect tokens are revoked at each host that offers revocation, best effort: a
    failure is reported in :attr:`ErasureReport.revocations` and does not stop the erasure.
    Then every row of the user goes, in one transaction.

    Raises:
        InvalidInputError: ``owner`` is not a user id (empty, or the site's own).
    """
    owner = _user(owner)
    with store.transaction() as tx:
        targets = [(tx.providers.get(a.provider_id), a) for a in tx.accounts.list(owner=owner)]
    revocations = [_revoke(store, provider, account, client) for provider, account in targets]
    counts = dict.fromkeys(("selected_collections", "tokens", "cached_badges", "import_records"), 0)
    with store.transaction() as tx:
        # Read again inside the erasing transaction: an account connected meanwhile goes too.
        accounts = tx.accounts.list(owner=owner)
        for account in accounts:
            counts["selected_collections"] += len(tx.collections.list(account.id))
            counts["tokens"] += (tx.token_cache.get(account.id) is not None) + (
                tx.oauth_tokens.get(account.id) is not None
            )
            counts["cached_badges"] += tx.badge_cache.get(account.id) is not None
            counts["import_records"] += tx.identifiers.delete_prefix(
                account.provider_id, import_key_prefix(account.id)
            )
            tx.accounts.delete(account.id)
        verifications = tx.verifications.find(owner)
        for pending in verifications:
            tx.verifications.delete(pending.id)
        authorizations = tx.oauth_states.find(owner)
        for state in authorizations:
            tx.oauth_states.delete(state.id)
        jobs = tx.jobs.delete_of(owner)
    return ErasureReport(
        owner=owner,
        accounts=len(accounts),
        pending_verifications=len(verifications),
        pending_authorizations=len(authorizations),
        revocations=revocations,
        jobs=jobs,
        **counts,
    )
