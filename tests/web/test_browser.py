"""The learner's v2 flow in a real browser: Debian's Chromium driven by Playwright.

Playwright's own browser download is not available offline, so the system binary is launched;
the tests are skipped (with the reason) where it is not installed. ``.ci/run`` installs it.
The browser and the accessibility checker are set up in ``_browser.py``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from openbackpack.client import BackpackClient
from openbackpack.store import IdentifierKind
from tests.registry_data import PNG
from tests.services.conftest import LEARNER_EMAIL, LEARNER_PASSWORD, Hosts, collection

from ._browser import CHROMIUM, needs_axe, needs_chromium, serious_violations
from .conftest import Web

pytestmark = needs_chromium

if CHROMIUM.exists():
    from playwright.sync_api import Browser, Page, expect


@contextmanager
def _page(browser: Browser, web: Web, user: str) -> Iterator[Page]:
    context = browser.new_context(base_url=web.url, extra_http_headers={"x-user": user})
    try:
        yield context.new_page()
    finally:
        context.close()


def _code(web: Web) -> str:
    found = re.search(r"verification code is: (\S+)", web.site.outbox.messages()[-1].get_content())
    assert found is not None
    return found.group(1)


def test_a_learner_connects_adds_chooses_sees_and_disconnects_in_a_browser(
    browser: Browser, web: Web, hosts: Hosts, client: BackpackClient
) -> None:
    """Clicking only, a learner connects v2, adds an award, chooses it, sees it, disconnects."""
    with web.site.store.transaction() as tx:
        issuer = tx.issuers.list()[0]
        badge = tx.badge_classes.create(
            issuer.id, "Browser badge", "Seen in Chromium.", PNG, criteria_narrative="Pass."
        )
        award_hash = tx.awards.create(badge.id, LEARNER_EMAIL).hash
    with _page(browser, web, "learner-a") as page:
        page.goto("/")
        page.get_by_role("link", name="Connect").first.click()
        page.get_by_label("Email address").fill(LEARNER_EMAIL)
        page.get_by_label("Password").fill(LEARNER_PASSWORD)
        page.get_by_role("button", name="Connect").click()
        expect(page.get_by_role("heading", name="Enter the code")).to_be_visible()
        page.get_by_label("Code").fill(_code(web))
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_role("heading", name="Choose the collections to show")).to_be_visible()
        page.get_by_role("link", name="My awards").click()
        page.get_by_role("button", name="Add to backpack").click()
        expect(page.get_by_role("status")).to_have_text("Browser badge is now in your backpack.")
        with web.site.store.transaction() as tx:
            remote = tx.identifiers.get(web.site.primary_id, IdentifierKind.ASSERTION, award_hash)
        assert remote is not None
        # The host outlives one store (SQLite, then PostgreSQL): a name of this run only.
        name = f"Web {uuid.uuid4().hex[:8]}"
        collection(client, hosts.primary, LEARNER_EMAIL, LEARNER_PASSWORD, [remote], name=name)
        page.get_by_role("link", name="My backpacks").click()
        page.get_by_role("link", name="Choose collections").click()
        page.get_by_label(f"{name} (1 badge)").check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name="Browser badge")).to_be_visible()
        page.get_by_role("link", name="My backpacks").click()
        page.get_by_role("button", name="Disconnect").click()
        expect(page.get_by_text("You have not connected a backpack yet.")).to_be_visible()


@needs_axe
def test_every_page_has_no_serious_accessibility_violation(browser: Browser, web: Web) -> None:
    """axe-core, run in each page (learner's and admin's), finds no serious or critical issue."""
    # Only the checker's own script needs the CSP lifted; the pages themselves send none.
    context = browser.new_context(
        base_url=web.url,
        bypass_csp=True,
        extra_http_headers={"x-user": "admin-1", "x-admin": "1"},
    )
    paths = [
        "/", f"/connect/{web.site.primary_id}", "/awards", "/badges", "/admin/backpacks",
        "/admin/backpacks/new", f"/admin/backpacks/{web.site.primary_id}", "/admin/settings",
    ]  # fmt: skip
    found: dict[str, list[str]] = {}
    try:
        page = context.new_page()
        for path in paths:
            page.goto(path)
            serious = serious_violations(page)
            if serious:
                found[path] = serious
    finally:
        context.close()
    assert found == {}
