"""Take the screenshots of the pages shown in docs/web.md, in Debian's Chromium.

Run it from the repository root (``.venv/bin/python tools/web_screenshots.py``): it starts
what ``openbackpack demo --web`` starts (a reference host offered as a Badgr v2 and a Badge
Connect 2.1 backpack, the issuer, the pages with the demo login, over a fresh store), then
clicks through the flows as the demo learner and the demo admin would, and writes
``docs/images/web-*.png`` on the way.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

from openbackpack._demo import LEARNER_EMAIL, LEARNER_PASSWORD
from openbackpack._demo_web import ADMIN, LEARNER, WebDemo, web_demo
from openbackpack.protocols import badgr
from openbackpack.serve import serve_in_thread
from openbackpack.services import MaildirMailer
from openbackpack.store import IdentifierKind

OUT = Path("docs/images")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
VIEWPORT = {"width": 1000, "height": 700}


def _shoot(page: Page, name: str) -> None:
    page.wait_for_load_state()
    page.screenshot(path=str(OUT / f"web-{name}.png"), full_page=True)
    print(f"wrote {OUT / f'web-{name}.png'}")


def _log_in(browser: Browser, url: str, user: str, *, admin: bool) -> Page:
    page = browser.new_context(base_url=url, viewport=VIEWPORT).new_page()  # type: ignore[arg-type]
    page.goto("/demo-login")
    page.get_by_label("User id").fill(user)
    if admin:
        page.get_by_label("Site administrator").check()
    return page


def _collection(demo: WebDemo, award_hash: str) -> None:
    """Put the pushed badge in a published collection, as the learner would on the host."""
    with demo.store.transaction() as tx:
        primary = tx.providers.primary()
        assert primary is not None
        remote = tx.identifiers.get(primary.id, IdentifierKind.ASSERTION, award_hash)
    api_url = primary.api_url
    token = demo.client.password_grant(api_url, LEARNER_EMAIL, LEARNER_PASSWORD).access_token
    created = demo.client.fetch(
        badgr.route("backpack.collections.create"), api_url,
        data={"name": "Programming", "published": True}, token=token,
    ).json()["result"][0]  # fmt: skip
    demo.client.fetch(
        badgr.route("backpack.collections.update"), api_url,
        params={"collection": created["entityId"]},
        data={"name": "Programming", "published": True, "assertions": [remote]}, token=token,
    )  # fmt: skip


def _learner(browser: Browser, demo: WebDemo) -> None:
    page = _log_in(browser, demo.url, LEARNER, admin=False)
    _shoot(page, "demo-login")
    page.get_by_role("button", name="Log in").click()
    _shoot(page, "home")
    page.get_by_role("link", name="Connect", exact=True).first.click()
    page.get_by_label("Email address").fill(LEARNER_EMAIL)
    page.get_by_label("Password").fill(LEARNER_PASSWORD)
    _shoot(page, "connect")
    page.get_by_role("button", name="Connect").click()
    _shoot(page, "verify")
    mail = MaildirMailer(demo.outbox).messages()[-1].get_content()
    code = re.search(r"verification code is: (\S+)", mail)
    assert code is not None
    page.get_by_label("Code").fill(code.group(1))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("link", name="My awards").click()
    _shoot(page, "awards")
    form = page.locator("form[action$='/add']").first
    award_hash = (form.get_attribute("action") or "").split("/")[-2]
    form.get_by_role("button", name="Add to backpack").click()
    _shoot(page, "added")
    _collection(demo, award_hash)
    page.get_by_role("link", name="My backpacks").click()
    page.get_by_role("link", name="Choose collections").click()
    page.get_by_label(re.compile("Programming")).check()
    _shoot(page, "collections")
    page.get_by_role("button", name="Save").click()
    _shoot(page, "badges")
    page.get_by_role("link", name="My backpacks").click()
    page.get_by_role("link", name="Connect", exact=True).nth(1).click()
    _shoot(page, "connect-2-1")
    page.get_by_role("button", name="Connect").click()
    _shoot(page, "oauth-continue")
    page.get_by_role("link", name="Continue to the backpack").click()
    page.get_by_label("E-mail").fill(LEARNER_EMAIL)
    page.get_by_label("Password").fill(LEARNER_PASSWORD)
    _shoot(page, "consent")
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name="My external badges")).to_be_visible()
    page.get_by_role("link", name="My backpacks").click()
    _shoot(page, "home-connected")


def _admin(browser: Browser, demo: WebDemo) -> None:
    page = _log_in(browser, demo.url, ADMIN, admin=True)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Manage backpacks").click()
    _shoot(page, "admin-backpacks")
    page.get_by_role("link", name="Add a backpack").click()
    _shoot(page, "admin-new")
    page.goto("/admin/backpacks")
    page.get_by_role("link", name="Edit").first.click()
    _shoot(page, "admin-edit")
    page.goto("/admin/backpacks")
    page.get_by_role("button", name="Test connection").first.click()
    _shoot(page, "admin-test")
    page.get_by_role("link", name="Site settings").click()
    _shoot(page, "admin-settings")


def main() -> None:
    """Start everything, click through the flows taking the screenshots, stop everything."""
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as directory,
        web_demo(Path(directory)) as demo,
        serve_in_thread(demo.app, sock=demo.sock),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        _learner(browser, demo)
        _admin(browser, demo)
        browser.close()


if __name__ == "__main__":
    main()
