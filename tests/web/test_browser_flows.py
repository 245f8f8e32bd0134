"""Badge Connect, the admin's pages and the keyboard, in a real browser, axe-core in every page.

Each test keeps an :class:`Axe` and checks each page it reaches (the reference host's consent
page too); none may have a serious or critical accessibility violation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from openbackpack.client import BackpackClient
from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.services import MaildirMailer, list_backpacks
from openbackpack.store import Store
from tests.services._bc import PASSWORD, badge_connect_site, new_learner
from tests.services.conftest import (
    LEARNER_EMAIL,
    LEARNER_PASSWORD,
    Hosts,
    Site,
)

from ._browser import (
    CHROMIUM,
    Axe,
    browser_context,
    needs_axe,
    needs_chromium,
    tab_to,
)
from .conftest import Web, serve_pages

pytestmark = [needs_chromium, needs_axe, pytest.mark.usefixtures("loopback_allowed")]

if CHROMIUM.exists():
    from playwright.sync_api import Browser, Page, expect


@pytest.fixture(scope="module")
def bc_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A Badge Connect host that accepts the pages' loopback callback."""
    directory = tmp_path_factory.mktemp("bc-browser")
    settings = HostSettings(
        db_url=f"sqlite:///{directory / 'bc.sqlite3'}",
        allow_private_fetch=True,
        login_backoff_max=0,
        allow_loopback_redirects=True,
    )
    with run_host_in_thread(settings) as running:
        yield running


def test_a_learner_connects_a_2_1_backpack_sees_a_badge_and_disconnects(
    browser: Browser, store: Store, bc_host: RunningHost, client: BackpackClient, tmp_path: Path
) -> None:
    """Through the host's consent page and back, an award added shows; disconnect ends it."""
    email = new_learner(bc_host)
    axe = Axe()
    with badge_connect_site(store, bc_host) as bc:
        bc.award(email)
        site = Site(store, bc.provider_id, bc.provider_id, bc.badge_id, bc.badge_id,
                    MaildirMailer(tmp_path / "out"))  # fmt: skip
        with (
            serve_pages(site, client, issuer_base_url=bc.issuer_url) as web,
            browser_context(browser, web.url, "learner-a") as context,
        ):
            page = context.new_page()
            page.goto("/")
            axe.check(page)
            page.get_by_role("link", name="Connect", exact=True).click()
            axe.check(page)
            page.get_by_role("button", name="Connect").click()
            expect(page.get_by_role("heading", name="Continue at the backpack")).to_be_visible()
            axe.check(page)
            page.get_by_role("link", name="Continue to the backpack").click()
            expect(page.get_by_role("heading", name=re.compile("wants to connect"))).to_be_visible()
            assert page.url.startswith(bc_host.base_url)
            axe.check(page)
            page.get_by_label("E-mail").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Allow").click()
            expect(page.get_by_role("heading", name="My external badges")).to_be_visible()
            assert page.url == web.url + "/badges"
            axe.check(page)
            page.get_by_role("link", name="My awards").click()
            axe.check(page)
            page.get_by_role("button", name="Add to backpack").click()
            expect(page.get_by_role("status")).to_have_text(
                "Python basics is now in your backpack."
            )
            axe.check(page)
            page.get_by_role("link", name="My external badges").click()
            expect(page.get_by_role("heading", name="Python basics")).to_be_visible()
            expect(page.get_by_text("checked: it is you")).to_be_visible()
            axe.check(page)
            page.get_by_role("link", name="My backpacks").click()
            expect(page.get_by_text(email)).to_be_visible()
            axe.check(page)
            page.get_by_role("button", name="Disconnect").click()
            expect(page.get_by_text("You have not connected a backpack yet.")).to_be_visible()
            axe.check(page)
    with store.transaction() as tx:
        assert tx.accounts.list(owner="learner-a") == []
    assert len(axe.checked) == 10
    assert axe.found == {}


def _rows(page: Page) -> list[int]:
    ids = page.locator("tbody tr[id^=backpack-]").evaluate_all("rows => rows.map(r => r.id)")
    return [int(i.removeprefix("backpack-")) for i in ids]


def test_an_admin_adds_tests_reorders_and_deletes_backpacks(
    browser: Browser, web: Web, hosts: Hosts
) -> None:
    """Each action in the list changes the order or the store; the primary cannot be deleted."""
    axe = Axe()
    with browser_context(browser, web.url, "admin-1", admin=True) as context:
        page = context.new_page()
        page.goto("/admin/backpacks")
        axe.check(page)
        primary, other = _rows(page)
        page.get_by_role("link", name="Add a backpack").click()
        axe.check(page)
        page.get_by_label("API address").fill("https://added.example/v2")
        page.get_by_label("Web address").fill("https://added.example/web")
        page.get_by_label("API version").select_option("2")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("https://added.example/web")).to_be_visible()
        axe.check(page)
        added = _rows(page)[-1]
        assert _rows(page) == [primary, other, added]
        page.locator(f"#backpack-{primary}").get_by_role("button", name="Test connection").click()
        expect(page.get_by_role("status")).to_have_text(
            "It works: backpack connection successfully established"
        )
        axe.check(page)
        page.get_by_role("link", name="Back to the backpacks").click()
        page.locator(f"#backpack-{added}").get_by_role("button", name="Test connection").click()
        expect(page.get_by_role("status")).to_contain_text("It does not work: this backpack has no")
        page.get_by_role("link", name="Back to the backpacks").click()
        page.locator(f"#backpack-{added}").get_by_role("button", name="Move up").click()
        assert _rows(page) == [primary, added, other]
        axe.check(page)
        page.locator(f"#backpack-{added}").get_by_role("button", name="Move down").click()
        assert _rows(page) == [primary, other, added]
        primary_row = page.locator(f"#backpack-{primary}")
        expect(primary_row.get_by_role("button", name="Delete")).to_have_count(0)
        # The list offers no delete for the primary; a form aimed at it anyway is refused.
        forged = page.locator(f"#backpack-{other} form[action$='/delete']")
        forged.evaluate(
            "(form, target) => form.setAttribute('action', target)",
            f"/admin/backpacks/{primary}/delete",
        )
        forged.get_by_role("button", name="Delete").click()
        expect(page.get_by_role("alert")).to_contain_text("primary")
        axe.check(page)
        page.goto("/admin/backpacks")
        page.locator(f"#backpack-{added}").get_by_role("button", name="Delete").click()
        assert _rows(page) == [primary, other]
        axe.check(page)
    assert [b.id for b in list_backpacks(web.site.store)] == [primary, other]
    assert axe.found == {}


def _code(web: Web) -> str:
    found = re.search(r"verification code is: (\S+)", web.site.outbox.messages()[-1].get_content())
    assert found is not None
    return found.group(1)


def test_the_connect_and_admin_forms_work_with_the_keyboard_only(
    browser: Browser, web: Web, hosts: Hosts
) -> None:
    """Tab, typing, arrow keys, Space and Enter alone connect a backpack and add another."""
    axe = Axe()
    provider = web.site.primary_id
    with browser_context(browser, web.url, "learner-a", admin=True) as context:
        page = context.new_page()
        page.goto(f"/connect/{provider}")
        axe.check(page)
        tab_to(page, "email")
        page.keyboard.type(LEARNER_EMAIL)
        page.keyboard.press("Tab")
        page.keyboard.type(LEARNER_PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Enter the code")).to_be_visible()
        axe.check(page)
        tab_to(page, "code")
        page.keyboard.type(_code(web))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Choose the collections to show")).to_be_visible()
        axe.check(page)
        page.goto("/admin/backpacks/new")
        axe.check(page)
        tab_to(page, "api_url")
        page.keyboard.type("https://keyboard.example/v2")
        page.keyboard.press("Tab")
        page.keyboard.type("https://keyboard.example/web")
        page.keyboard.press("Tab")
        # Options: 1, 2, 2.1; one step down from the first is API version 2.
        page.keyboard.press("ArrowDown")
        assert page.locator("#api_version").input_value() == "2"
        tab_to(page, "save")
        page.keyboard.press("Enter")
        expect(page.get_by_text("https://keyboard.example/web")).to_be_visible()
        axe.check(page)
        page.goto("/admin/settings")
        tab_to(page, "allow_external_backpacks")
        page.keyboard.press("Space")
        tab_to(page, "save")
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_have_text("Saved.")
        axe.check(page)
    with web.site.store.transaction() as tx:
        assert tx.accounts.find("learner-a", provider) is not None
        assert tx.settings.get().allow_external_backpacks is False
    added = [
        b for b in list_backpacks(web.site.store) if b.provider.web_url.startswith("https://k")
    ]
    assert [b.provider.api_version.value for b in added] == ["2"]
    assert axe.found == {}
