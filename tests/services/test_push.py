"""Add to backpack: site push, import, ownership, many awards, resuming."""

from __future__ import annotations

import httpx2
import pytest

from openbackpack import BackpackApi
from openbackpack.client import BackpackClient
from openbackpack.protocols import badgr
from openbackpack.services import (
    NotConnectedError,
    NotYourAwardError,
    PushFailure,
    push_award,
    push_awards,
)
from openbackpack.store import IdentifierKind

from ..store.conftest import snapshot
from .conftest import ISSUER_BASE, LEARNER, OTHER_EMAIL, Hosts, Site, award, connect


def _pushed(site: Site, kind: IdentifierKind) -> int:
    with site.store.transaction() as tx:
        return sum(1 for i in tx.identifiers.list(site.primary_id) if i.kind is kind)


def _backpack_ids(site: Site, provider_id: int, client: BackpackClient) -> set[str]:
    with site.store.transaction() as tx:
        provider = tx.providers.get(provider_id)
        account = tx.accounts.find(LEARNER, provider_id)
    assert account is not None
    with BackpackApi(provider, account, store=site.store, client=client) as api:
        token = api._access_token()[0].access_token.reveal()
    answer = client.fetch(
        badgr.route("backpack.assertions.list"),
        provider.api_url,
        token=token,
    )
    return {item["entityId"] for item in answer.json()["result"]}


def test_push_to_the_primary_backpack_adds_then_reports_already_there(
    site: Site, client: BackpackClient
) -> None:
    """The first push adds the award to the learner's backpack; the second finds it there."""
    connect(site, site.primary_id)
    award_hash = award(site)
    first = push_award(site.store, LEARNER, award_hash, issuer_base_url=ISSUER_BASE, client=client)
    assert first.status == "added"
    assert first.site_assertion_id in _backpack_ids(site, site.primary_id, client)
    second = push_award(site.store, LEARNER, award_hash, issuer_base_url=ISSUER_BASE, client=client)
    assert second.status == "already in backpack"
    assert second.site_assertion_id == first.site_assertion_id


def test_push_to_another_backpack_imports_the_public_assertion(
    site: Site, client: BackpackClient
) -> None:
    """On a non-primary backpack the award is imported from the primary's public URL."""
    connect(site, site.other_id)
    award_hash = award(site)
    result = push_award(site.store, LEARNER, award_hash, issuer_base_url=ISSUER_BASE, client=client)
    assert result.status == "added"
    assert result.import_url is not None
    assert "/public/assertions/" in result.import_url
    assert len(_backpack_ids(site, site.other_id, client)) >= 1
    again = push_award(site.store, LEARNER, award_hash, issuer_base_url=ISSUER_BASE, client=client)
    assert again.status == "already in backpack"


def test_duplicate_import_is_already_in_backpack(site: Site, client: BackpackClient) -> None:
    """An import the backpack calls a duplicate is reported as already there, not as an error."""
    account_id = connect(site, site.other_id)
    award_hash = award(site)
    push_award(site.store, LEARNER, award_hash, issuer_base_url=ISSUER_BASE, client=client)
    with site.store.transaction() as tx:  # forget locally that it was imported
        tx.identifiers.delete_prefix(site.other_id, f"import:{account_id}:")
    again = push_award(site.store, LEARNER, award_hash, issuer_base_url=ISSUER_BASE, client=client)
    assert again.status == "already in backpack"


def test_badge_class_is_pushed_even_when_the_issuer_was_mapped_earlier(
    site: Site, client: BackpackClient
) -> None:
    """A second badge class of a known issuer is still pushed (no 5.0 regression, W15)."""
    connect(site, site.primary_id)
    push_award(site.store, LEARNER, award(site), issuer_base_url=ISSUER_BASE, client=client)
    second = award(site, badge_id=site.second_badge_id)
    result = push_award(site.store, LEARNER, second, issuer_base_url=ISSUER_BASE, client=client)
    assert result.status == "added"
    assert _pushed(site, IdentifierKind.ISSUER) == 1
    assert _pushed(site, IdentifierKind.BADGE_CLASS) == 2


def test_someone_elses_award_is_refused_and_nothing_is_pushed(
    site: Site, client: BackpackClient
) -> None:
    """An award made to another email raises NotYourAwardError before any push (W18)."""
    connect(site, site.primary_id)
    theirs = award(site, OTHER_EMAIL)
    before = snapshot(site.store)
    with pytest.raises(NotYourAwardError):
        push_award(site.store, LEARNER, theirs, issuer_base_url=ISSUER_BASE, client=client)
    assert snapshot(site.store) == before


def test_user_without_a_backpack_is_told_so(site: Site, client: BackpackClient) -> None:
    """Pushing for a user with no account raises NotConnectedError."""
    with pytest.raises(NotConnectedError, match="no backpack account"):
        push_award(site.store, LEARNER, award(site), issuer_base_url=ISSUER_BASE, client=client)


def test_many_awards_report_each_failure_and_resume(
    site: Site, hosts: Hosts, client: BackpackClient
) -> None:
    """A bulk push reports the revoked award, pushes the rest, and a rerun creates nothing new."""
    connect(site, site.primary_id)
    hashes = [award(site) for _ in range(6)]
    with site.store.transaction() as tx:
        tx.awards.revoke(hashes[2], "issued by mistake")
    seen: list[object] = []
    report = push_awards(
        site.store, LEARNER, hashes, issuer_base_url=ISSUER_BASE, client=client,
        concurrency=4, on_done=seen.append,
    )  # fmt: skip
    assert [f.award_hash for f in report.failures] == [hashes[2]]
    assert "revoked" in str(report.failures[0].error)
    assert [r.award_hash for r in report.results] == hashes[:2] + hashes[3:]
    assert {r.status for r in report.results} == {"added"}
    assert len(seen) == 6
    assert _pushed(site, IdentifierKind.ISSUER) == 1
    assertions = _pushed(site, IdentifierKind.ASSERTION)
    rerun = push_awards(
        site.store, LEARNER, hashes, issuer_base_url=ISSUER_BASE, client=client, concurrency=4
    )
    assert {r.status for r in rerun.results} == {"already in backpack"}
    assert _pushed(site, IdentifierKind.ASSERTION) == assertions
    assert isinstance(rerun.failures[0], PushFailure)


def test_site_only_push_needs_no_user(site: Site, client: BackpackClient) -> None:
    """With no owner, awards are pushed to the site backpack only."""
    report = push_awards(
        site.store, None, [award(site), award(site, OTHER_EMAIL)], issuer_base_url=ISSUER_BASE,
        client=client,
    )  # fmt: skip
    assert report.complete
    assert {r.status for r in report.results} == {"pushed"}


def test_a_bulk_push_sends_one_request_per_award_once_the_badge_exists(site: Site) -> None:
    """After the first push, each award costs one POST: no login, no issuer, no badge class."""
    posted: list[str] = []

    def record(request: httpx2.Request) -> None:
        posted.append(f"{request.method} {request.url.path}")

    first = [award(site)]
    with (
        httpx2.Client(event_hooks={"request": [record]}) as http,
        BackpackClient(http_client=http) as client,
    ):
        assert push_awards(site.store, None, first, issuer_base_url=ISSUER_BASE, client=client)
        made = len(posted)
        assert made == 4, posted  # token, issuer, badge class, assertion
        more = [award(site) for _ in range(5)]
        report = push_awards(
            site.store, None, more, issuer_base_url=ISSUER_BASE, client=client, concurrency=3
        )
    assert report.complete
    assert len(posted) - made == 5
    assert all(p.endswith("/assertions") and p.startswith("POST") for p in posted[made:])
