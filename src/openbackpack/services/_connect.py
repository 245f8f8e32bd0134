"""Connecting a user's v1 or v2 backpack with email verification (Moodle's ``mybackpack.php``).

The flow: check that the credentials log in *now* (:func:`start_connection`), remember the
pending connection (code stored hashed, password and the login's token sealed, 24 h expiry)
and mail the code; then :func:`verify_connection` compares the code in constant time and saves
the account with that token in its cache: one login for the whole connection. Fixed from
Moodle: the chosen provider's version is the one checked (W13), codes expire and are compared
in constant time, and no password sits in user preferences (W21).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from openbackpack._exceptions import (
    APIStatusError,
    BackpackError,
    InvalidInputError,
    UnsupportedActionError,
)
from openbackpack.api._common import as_login_error
from openbackpack.api._core import expiry_of
from openbackpack.client import BackpackClient
from openbackpack.models import ApiVersion, TokenGrant
from openbackpack.protocols import Action, Mode, find_mapping
from openbackpack.services._errors import (
    NotConnectedError,
    NotOwnerError,
    VerificationError,
)
from openbackpack.services._mail import Mailer, compose
from openbackpack.services._oauth_api import oauth_api
from openbackpack.services._site import require_external_backpacks
from openbackpack.services._verification_mail import (
    EmailTemplate,
    render_verification,
    verification_template,
)
from openbackpack.store import (
    BackpackAccount,
    PendingLogin,
    PendingVerification,
    Provider,
    Secret,
    Store,
    Transaction,
)
from openbackpack.store._crypto import normalize_code, secrets_match
from openbackpack.store._types import utcnow
from openbackpack.store._validate import check_email, check_owner

__all__ = [
    "PendingConnection",
    "cancel_connection",
    "check_login",
    "disconnect",
    "resend_verification",
    "start_connection",
    "verify_connection",
]

_log = logging.getLogger("openbackpack.services")

VERIFICATION_TTL: Final = timedelta(hours=24)
DEFAULT_SENDER: Final = "openbackpack@localhost"


@dataclass(frozen=True, slots=True)
class PendingConnection:
    """A connection waiting for its email code."""

    provider_id: int
    owner: str
    email: str
    expires_at: datetime


def check_login(
    provider: Provider, email: str, password: str | None, client: BackpackClient | None = None
) -> str | None:
    """Log in with credentials that are not stored yet; return the v1 user id (v2: None).

    A Displayer (v1) backpack knows its users by verified email alone: ``password`` is not
    used there and may be ``None``.

    Raises:
        AuthenticationError: the backpack refused them (the message carries its reason), or
            (v1) knows no user with that email.
        InvalidInputError: v2, and no password.
        UnsupportedActionError: a Badge Connect (2.1) provider, which connects with OAuth 2.
    """
    return _log_in(provider, email, password, client)[0]


def _log_in(
    provider: Provider, email: str, password: str | None, client: BackpackClient | None
) -> tuple[str | None, PendingLogin | None]:
    # The v1 user id, or the v2 token: the caller keeps it so nobody logs in twice.
    if provider.api_version.uses_oauth:
        raise UnsupportedActionError(
            "email and password connection",
            provider.api_version.value,
            "user (Badge Connect connects with OAuth 2: begin_oauth_connection)",
        )
    own = client is None
    http = client if client is not None else BackpackClient()
    try:
        if provider.api_version is ApiVersion.V2:
            if not password:
                raise InvalidInputError("a Badgr (v2) backpack needs the account's password")
            grant = http.password_grant(provider.api_url, email, password)
            expires_at = expiry_of(grant, utcnow())
            return None, PendingLogin(Secret(grant.access_token), _secret(grant), expires_at)
        mapping = find_mapping(ApiVersion.V1, Mode.USER, Action.USER)
        try:
            found = http.perform(mapping, provider.api_url, data={"email": email})
        except APIStatusError as exc:
            raise as_login_error(exc) from exc
        return str(found.user_id), None
    finally:
        if own:
            http.close()


def _secret(grant: TokenGrant) -> Secret | None:
    return Secret(grant.refresh_token) if grant.refresh_token else None


def _pending(tx: Transaction, owner: str, provider_id: int | None) -> PendingVerification:
    found = tx.verifications.find(owner, provider_id)
    if not found:
        raise VerificationError(f"user {owner!r} has no pending backpack connection")
    if len(found) > 1:
        raise VerificationError(
            f"user {owner!r} has pending connections to several backpacks; name the backpack"
        )
    return found[0]


@dataclass(frozen=True, slots=True)
class _Mail:
    mailer: Mailer
    sender: str
    template: EmailTemplate | None
    verify_url: str | None

    def send_code(self, tx: Transaction, provider: Provider, email: str, code: str) -> None:
        template = verification_template(tx.settings.get(), self.template)
        subject, body = render_verification(
            template,
            code=code,
            verify_url=self.verify_url,
            backpack=provider.web_url,
            email=email,
            hours=int(VERIFICATION_TTL.total_seconds() // 3600),
        )
        self.mailer.send(compose(self.sender, email, subject, body))


def start_connection(
    store: Store,
    owner: str,
    provider_id: int,
    email: str,
    password: str | None = None,
    *,
    mailer: Mailer,
    sender: str = DEFAULT_SENDER,
    client: BackpackClient | None = None,
    template: EmailTemplate | None = None,
    verify_url: str | None = None,
) -> PendingConnection:
    """Check the credentials against the backpack, then mail a verification code.

    Nothing is stored unless the backpack accepted the login. An earlier pending connection
    of the same user to the same backpack is replaced. The mail is ``template`` (else the
    site's stored template, else the built-in text) with the code and ``verify_url`` (the
    platform's verification page; ``$code`` in it is replaced by the code) filled in.
    A Displayer (v1) backpack needs no password (one given is ignored, not stored).

    Raises:
        ExternalBackpacksDisabledError: the site switched external backpacks off.
        AuthenticationError: the backpack refused the login (its reason is in the message).
        InvalidInputError: an empty email, no password for a v2 backpack, or a bad owner id.
        MailDeliveryError: the mail could not be sent; the pending connection is not kept.
    """
    owner = check_owner(owner)
    email = check_email(email)
    with store.transaction() as tx:
        require_external_backpacks(tx)
        provider = tx.providers.get(provider_id)
    if provider.api_version is ApiVersion.V1:
        password = None
    _, login = _log_in(provider, email, password, client)
    mail = _Mail(mailer, sender, template, verify_url)
    with store.transaction() as tx:
        pending, code = tx.verifications.create(
            owner, provider_id, email, password, ttl=VERIFICATION_TTL, login=login
        )
        # Inside the transaction: if the mail cannot go, the pending row is rolled back.
        mail.send_code(tx, provider, email, code)
    return PendingConnection(provider_id, owner, email, pending.expires_at)


def resend_verification(
    store: Store,
    owner: str,
    provider_id: int | None = None,
    *,
    mailer: Mailer,
    sender: str = DEFAULT_SENDER,
    template: EmailTemplate | None = None,
    verify_url: str | None = None,
) -> PendingConnection:
    """Mail a fresh code for the pending connection (only a hash of the old one was kept).

    ``template`` and ``verify_url`` are as for :func:`start_connection`.
    """
    mail = _Mail(mailer, sender, template, verify_url)
    with store.transaction() as tx:
        require_external_backpacks(tx)
        pending = _pending(tx, owner, provider_id)
        provider = tx.providers.get(pending.provider_id)
        password = pending.password.reveal() if pending.password else None
        renewed, code = tx.verifications.create(
            owner,
            pending.provider_id,
            pending.email,
            password,
            ttl=VERIFICATION_TTL,
            login=pending.login,
        )
        mail.send_code(tx, provider, pending.email, code)
    return PendingConnection(renewed.provider_id, owner, renewed.email, renewed.expires_at)


def cancel_connection(store: Store, owner: str, provider_id: int | None = None) -> int:
    """Forget the user's pending connections ("connect using a different email")."""
    with store.transaction() as tx:
        found = tx.verifications.find(owner, provider_id)
        for pending in found:
            tx.verifications.delete(pending.id)
    return len(found)


def verify_connection(
    store: Store,
    owner: str,
    code: str,
    *,
    provider_id: int | None = None,
    client: BackpackClient | None = None,
) -> BackpackAccount:
    """Finish a connection: check the code, save the account with the login's token cached.

    The token obtained when :func:`start_connection` checked the credentials goes into the
    account's token cache (sealed), so verifying makes no request to a v2 backpack. A v1
    backpack is asked for the user id of the email; a connection started before logins were
    kept logs in once here.

    Raises:
        ExternalBackpacksDisabledError: the site switched external backpacks off.
        VerificationError: no pending connection, a wrong code (the pending connection stays,
            so the right code still works), or an expired one (it is removed).
        AuthenticationError: the backpack no longer accepts the credentials.
    """
    with store.transaction() as tx:
        require_external_backpacks(tx)
        pending = _pending(tx, owner, provider_id)
        provider = tx.providers.get(pending.provider_id)
    if pending.expires_at <= utcnow():
        cancel_connection(store, owner, pending.provider_id)
        raise VerificationError("the verification code has expired; start the connection again")
    # The exact text first: a code issued before the alphabet changed is mixed-case.
    presented = code.strip()
    if not (
        secrets_match(presented, pending.secret_hash)
        or secrets_match(normalize_code(presented), pending.secret_hash)
    ):
        raise VerificationError("the verification code does not match")
    password = pending.password.reveal() if pending.password else ""
    login = pending.login
    remote_user_id = None
    if login is None:
        # v1 (the user id is looked up now), or a connection started before logins were kept.
        remote_user_id, login = _log_in(provider, pending.email, password, client)
    with store.transaction() as tx:
        account = _save_account(tx, pending, password, remote_user_id)
        if login is not None:
            # The token of the login that checked the credentials: no second login, and no
            # token left alive at the host that nobody holds.
            tx.token_cache.save(
                account.id, login.access_token, login.refresh_token, login.expires_at
            )
        tx.verifications.delete(pending.id)
    return account


def _save_account(
    tx: Transaction, pending: PendingVerification, password: str, remote_user_id: str | None
) -> BackpackAccount:
    existing = tx.accounts.find(pending.owner, pending.provider_id)
    if existing is not None:
        tx.token_cache.delete(existing.id)
        return tx.accounts.update(
            existing.id, email=pending.email, password=password, remote_user_id=remote_user_id
        )
    return tx.accounts.create(
        pending.provider_id, pending.owner, pending.email, password, remote_user_id=remote_user_id
    )


def disconnect(
    store: Store,
    owner: str,
    provider_id: int,
    *,
    acting_user: str,
    client: BackpackClient | None = None,
) -> bool:
    """Disconnect a user's backpack: only the user themself may (W18).

    The account goes with its selected collections, its tokens, its cached badges and the
    record of what was imported into it; the user's accounts on other backpacks stay (W19).
    On a Badge Connect (2.1) or OB 3.0 backpack that offers revocation, the tokens are revoked there
    first (Moodle only forgot them); a host that cannot be reached does not stop the
    disconnection, which is logged.

    Returns:
        whether the backpack revoked the account's tokens.

    Raises:
        NotOwnerError: ``acting_user`` is not ``owner``.
        NotConnectedError: the user has no account on that backpack.
    """
    if acting_user != owner:
        raise NotOwnerError("only the owner of a backpack connection may disconnect it")
    with store.transaction() as tx:
        account = tx.accounts.find(owner, provider_id)
        provider = tx.providers.get(provider_id)
    if account is None:
        raise NotConnectedError(f"user {owner!r} has no account on backpack {provider_id}")
    revoked = False
    if provider.api_version.uses_oauth:
        revoked = _revoke(store, provider, account, client)
    with store.transaction() as tx:
        tx.identifiers.delete_prefix(provider_id, import_key_prefix(account.id))
        for pending in tx.oauth_states.find(owner, provider_id):
            tx.oauth_states.delete(pending.id)
        tx.accounts.delete(account.id)
    return revoked


def _revoke(
    store: Store, provider: Provider, account: BackpackAccount, client: BackpackClient | None
) -> bool:
    try:
        with oauth_api(provider, account, store, client) as api:
            return api.revoke()
    except BackpackError as exc:
        # The user asked to be disconnected: forgetting the tokens here must not wait on a
        # host that is down. The token dies at the host when it expires.
        _log.warning("backpack %s: token revocation failed: %s", provider.id, exc)
        return False


def import_key_prefix(account_id: int) -> str:
    """The prefix of the remote-id keys that record imports into one account."""
    return f"import:{account_id}:"
