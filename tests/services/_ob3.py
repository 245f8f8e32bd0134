"""Helpers of the Open Badges 3.0 API client tests: a site with a 3.0 backpack, a learner."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from openbackpack.credentials import did_web_url
from openbackpack.host import HostSettings, RunningHost
from openbackpack.issuer import CredentialIssuer, DidMethod, IssuerUrls, create_issuer_app
from openbackpack.protocols import ob3api as ob3
from openbackpack.serve import base_url_of, bind_socket, serve_in_thread
from openbackpack.services import (
    DOCUMENT_MAP_ENV,
    add_backpack,
    begin_oauth_connection,
    complete_oauth_connection,
)
from openbackpack.store import BackpackAccount, Provider, Store
from openbackpack.store._types import utcnow
from tests.registry_data import PNG
from tests.services._bc import consent, new_learner

REDIRECT = "http://127.0.0.1:8/callback"  # the browser never follows it: consent() reads it


def ob3_host_settings(directory: Path, name: str, **options: Any) -> HostSettings:
    """A host that fetches from loopback and keeps credentials whose DID it cannot resolve.

    The test issuer's ``did:web`` resolves to an https URL nothing serves here, so the host
    could not check the issuer key; it stores such pushes (the client checks them itself).
    """
    return HostSettings(
        db_url=f"sqlite:///{directory / f'{name}.sqlite3'}",
        allow_private_fetch=True,
        login_backoff_max=0,
        ob3_accept_unchecked=True,
        **options,
    )


@dataclass(frozen=True)
class Ob3Site:
    """A store with a 3.0 backpack, a registry badge and live hosted documents."""

    store: Store
    host: RunningHost
    provider_id: int
    issuer_id: int
    badge_id: int
    issuer_url: str

    @property
    def urls(self) -> IssuerUrls:
        """Where the store's issuer documents are served."""
        return IssuerUrls(self.issuer_url)

    def award(self, email: str, *, new_badge: bool = False) -> str:
        """Award the registry badge (or a new badge of its own) to ``email``; return the hash.

        The host replaces a credential of the same issuer, achievement and subject, so
        credentials meant to sit side by side are of different badges.
        """
        with self.store.transaction() as tx:
            badge_id = self.badge_id
            if new_badge:
                name = f"Badge {uuid.uuid4().hex[:8]}"
                badge_id = tx.badge_classes.create(
                    self.issuer_id, name, "Another one.", PNG, criteria_narrative="Pass."
                ).id
            return tx.awards.create(badge_id, email).hash

    def credential(self, award_hash: str, did_method: DidMethod = "web") -> dict[str, Any]:
        """The award's signed OpenBadgeCredential (Data Integrity proof)."""
        with self.store.transaction() as tx:
            issuer = CredentialIssuer(tx, self.urls, did_method=did_method)
            signed = issuer.credential(award_hash)
        assert isinstance(signed, dict)
        return signed

    def jwt(self, award_hash: str) -> str:
        """The award's credential as a VC-JWT, its issuer a ``did:key`` any verifier resolves."""
        with self.store.transaction() as tx:
            issuer = CredentialIssuer(tx, self.urls, did_method="key")
            signed = issuer.credential(award_hash, fmt="jwt")
        assert isinstance(signed, str)
        return signed

    def document_map(self, directory: Path) -> Path:
        """A document map giving the issuer's DID document and status list, offline."""
        with self.store.transaction() as tx:
            issuer = CredentialIssuer(tx, self.urls)
            issuer.signing_key(self.issuer_id)
            did = issuer.issuer_did(self.issuer_id)
            documents = {
                did_web_url(did): issuer.did_document(self.issuer_id),
                self.urls.status_list(self.issuer_id): issuer.status_list(self.issuer_id),
            }
        entries = {}
        for index, (url, document) in enumerate(documents.items()):
            path = directory / f"doc-{index}.json"
            path.write_text(json.dumps(document))
            entries[url] = path.name
        listing = directory / "map.json"
        listing.write_text(json.dumps(entries))
        return listing


@contextmanager
def ob3_site(store: Store, host: RunningHost) -> Iterator[Ob3Site]:
    """Register ``host`` as a 3.0 backpack of ``store`` and serve the store's documents."""
    provider = add_backpack(store, host.base_url + ob3.API_PATH, host.base_url, "3.0")
    with store.transaction() as tx:
        issuer = tx.issuers.create("Example University", "https://example.org", "i@example.org")
        badge = tx.badge_classes.create(
            issuer.id, "Python basics", "Completed the course.", PNG, criteria_narrative="Pass."
        )
    sock = bind_socket()
    base = base_url_of(sock) + "/issuer"
    app = FastAPI()
    app.mount("/issuer", create_issuer_app(store, base))
    with serve_in_thread(app, sock=sock):
        yield Ob3Site(store, host, provider.id, issuer.id, badge.id, base)


def connect_learner(
    site: Ob3Site, owner: str = "42", *, scopes: Sequence[str] | None = None
) -> BackpackAccount:
    """Connect a new learner of the host: authorize, consent over HTTP, trade the code."""
    email = new_learner(site.host)
    url, state = begin_oauth_connection(
        site.store, owner, site.provider_id, REDIRECT, scopes=scopes, email=email
    )
    answer = consent(url, email)
    assert answer["state"] == state
    return complete_oauth_connection(site.store, answer["state"], answer["code"])


def use_document_map(site: Ob3Site, directory: Path, monkeypatch: Any) -> None:
    """Let the verifier of external badges read the site's DID document and status list."""
    monkeypatch.setenv(DOCUMENT_MAP_ENV, str(site.document_map(directory)))


def expire_token(store: Store, account: BackpackAccount) -> str:
    """Mark the account's token as expired in the store; return the old access token."""
    with store.transaction() as tx:
        token = tx.oauth_tokens.get(account.id)
        assert token is not None
        tx.oauth_tokens.save(
            account.id, token.access_token, token.refresh_token,
            utcnow() - timedelta(seconds=1), token.scope,
        )  # fmt: skip
    return token.access_token.reveal()


def provider_of(site: Ob3Site) -> Provider:
    """The site's 3.0 backpack record."""
    with site.store.transaction() as tx:
        return tx.providers.get(site.provider_id)
