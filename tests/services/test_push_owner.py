"""Add to backpack for an award made to a user, and the fallback to the hosted assertion."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from fastapi import FastAPI

from openbackpack.client import BackpackClient
from openbackpack.issuer import IssuerUrls, create_issuer_app
from openbackpack.models import hash_identity
from openbackpack.serve import base_url_of, bind_socket, serve_in_thread
from openbackpack.services import NotYourAwardError, push_award
from openbackpack.store import SITE_OWNER

from .conftest import ISSUER_BASE, LEARNER, LEARNER_EMAIL, Site, connect
from .test_push import _backpack_ids

SCHOOL_EMAIL = "learner@school.example"


def _owned(site: Site, owner: str = LEARNER, email: str = SCHOOL_EMAIL) -> str:
    with site.store.transaction() as tx:
        return tx.awards.create(site.badge_id, email, owner=owner).hash


@pytest.fixture
def issuer_base(site: Site) -> Iterator[str]:
    """This site's hosted documents, live on loopback, so that backpacks can import them."""
    sock = bind_socket()
    base = base_url_of(sock) + "/issuer"
    app = FastAPI()
    app.mount("/issuer", create_issuer_app(site.store, base))
    with serve_in_thread(app, sock=sock):
        yield base


def _break_site_account(site: Site) -> None:
    with site.store.transaction() as tx:
        account = tx.accounts.find(SITE_OWNER, site.primary_id)
        assert account is not None
        tx.accounts.update(account.id, password="not-the-password")


def test_an_owned_award_goes_to_the_backpack_email(site: Site, client: BackpackClient) -> None:
    """An award made to the user under another email is pushed to their backpack's email."""
    connect(site, site.primary_id)
    award_hash = _owned(site)
    result = push_award(site.store, LEARNER, award_hash, issuer_base_url=ISSUER_BASE, client=client)
    assert result.status == "added"
    assert result.via == "site push"
    assert result.site_assertion_id is not None
    # Badgr links an assertion to the backpack whose email is its recipient.
    assert result.site_assertion_id in _backpack_ids(site, site.primary_id, client)


def test_an_owned_award_of_another_user_is_refused(site: Site, client: BackpackClient) -> None:
    """Ownership is checked by owner when the award has one, whatever the emails."""
    connect(site, site.primary_id)
    theirs = _owned(site, owner="someone-else", email=LEARNER_EMAIL)
    with pytest.raises(NotYourAwardError, match="another user"):
        push_award(site.store, LEARNER, theirs, issuer_base_url=ISSUER_BASE, client=client)


def test_the_hosted_copy_names_the_verified_email(site: Site, issuer_base: str) -> None:
    """The owner's copy has a stable URL and id, and its recipient is the backpack's email."""
    connect(site, site.other_id)
    award_hash = _owned(site)
    url = IssuerUrls(issuer_base).assertion_for(award_hash, LEARNER_EMAIL)
    assert url == IssuerUrls(issuer_base).assertion_for(award_hash, LEARNER_EMAIL.upper())
    with site.store.transaction() as tx:
        salt = tx.awards.get(award_hash).salt
    copy = httpx2.get(url).json()
    assert copy["id"] == url
    assert copy["verification"]["url"] == url
    assert copy["recipient"]["identity"] == hash_identity(LEARNER_EMAIL, salt)
    stranger = IssuerUrls(issuer_base).assertion_for(award_hash, "stranger@example.org")
    assert httpx2.get(stranger).status_code == 404


def test_a_failed_site_push_falls_back_to_the_hosted_assertion(
    site: Site, client: BackpackClient, issuer_base: str
) -> None:
    """When the site account cannot log in, the backpack imports this site's hosted copy."""
    connect(site, site.other_id)
    _break_site_account(site)
    award_hash = _owned(site)
    result = push_award(site.store, LEARNER, award_hash, issuer_base_url=issuer_base, client=client)
    assert result.status == "added"
    assert result.via == "hosted import"
    assert result.site_push_error is not None
    assert result.import_url == IssuerUrls(issuer_base).assertion_for(award_hash, LEARNER_EMAIL)
    again = push_award(site.store, LEARNER, award_hash, issuer_base_url=issuer_base, client=client)
    assert again.status == "already in backpack"


def test_a_failed_site_push_on_the_primary_imports_the_hosted_url(
    site: Site, client: BackpackClient, issuer_base: str
) -> None:
    """On the primary backpack too, a failed site push becomes an import of the hosted URL."""
    connect(site, site.primary_id)
    _break_site_account(site)
    with site.store.transaction() as tx:
        award_hash = tx.awards.create(site.badge_id, LEARNER_EMAIL).hash
    result = push_award(site.store, LEARNER, award_hash, issuer_base_url=issuer_base, client=client)
    assert (result.status, result.via) == ("added", "hosted import")
    assert result.import_url == IssuerUrls(issuer_base).assertion(award_hash)
