"""Take the screenshots of the pages shown in docs/web.md, in Debian's Chromium.

Run it from the repository root (``.venv/bin/python tools/web_screenshots.py``): it starts a
reference host and the pages on loopback over a fresh store with a demo learner, an award and
a collection, and writes ``docs/images/web-*.png``.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from starlette.requests import Request

from openbackpack.client import BackpackClient
from openbackpack.host import HostSettings, run_host_in_thread
from openbackpack.protocols import badgr
from openbackpack.serve import serve_in_thread
from openbackpack.services import MaildirMailer, add_backpack, push_award, select_collections
from openbackpack.store import IdentifierKind, SecretBox, Store
from openbackpack.web import WebSettings, WebUser, create_web_app

OUT = Path("docs/images")
EMAIL, PASSWORD, LEARNER = "ada@example.org", "ada-password", "ada"
SITE_EMAIL, SITE_PASSWORD = "site@example.org", "site-password"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<circle cx="5" cy="5" r="4"/></svg>'
)


def _identify(request: Request) -> WebUser | None:
    return WebUser(LEARNER, is_admin=request.headers.get("x-admin") == "1", email=EMAIL)


def _collection(client: BackpackClient, api_url: str, assertions: list[str]) -> str:
    token = client.password_grant(api_url, EMAIL, PASSWORD).access_token
    created = client.fetch(
        badgr.route("backpack.collections.create"), api_url,
        data={"name": "Programming", "published": True}, token=token,
    ).json()["result"][0]  # fmt: skip
    client.fetch(
        badgr.route("backpack.collections.update"), api_url,
        params={"collection": created["entityId"]},
        data={"name": "Programming", "published": True, "assertions": assertions}, token=token,
    )  # fmt: skip
    return str(created["entityId"])


def _seed(store: Store, api_url: str, web_url: str, client: BackpackClient) -> list[str]:
    primary = add_backpack(store, api_url, web_url, "2", email=SITE_EMAIL, password=SITE_PASSWORD)
    with store.transaction() as tx:
        issuer = tx.issuers.create("Example University", "https://example.org", SITE_EMAIL)
        hashes = [
            tx.awards.create(
                tx.badge_classes.create(
                    issuer.id, name, "Completed the course.", SVG, criteria_narrative="Pass."
                ).id,
                EMAIL,
            ).hash
            for name in ("Python basics", "Python advanced")
        ]
        tx.accounts.create(primary.id, LEARNER, EMAIL, PASSWORD)
    push_award(store, LEARNER, hashes[0], issuer_base_url="http://127.0.0.1:9/ob", client=client)
    with store.transaction() as tx:
        remote = tx.identifiers.get(primary.id, IdentifierKind.ASSERTION, hashes[0])
    assert remote is not None
    chosen = _collection(client, api_url, [remote])
    select_collections(store, LEARNER, [chosen], client=client)
    return hashes


def _shoot(page: Page, path: str, name: str) -> None:
    page.goto(path)
    page.screenshot(path=str(OUT / f"web-{name}.png"), full_page=True)
    print(f"wrote {OUT / f'web-{name}.png'}")


def main() -> None:
    """Start everything, take the screenshots, stop everything."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        host_settings = HostSettings(
            db_url=f"sqlite:///{root / 'host.sqlite3'}", allow_private_fetch=True
        )
        with (
            run_host_in_thread(host_settings) as host,
            BackpackClient() as client,
            Store.open(
                f"sqlite:///{root / 'store.sqlite3'}",
                secret_key=SecretBox.generate_key(),
                migrate=True,
            ) as store,
        ):
            host.add_user(SITE_EMAIL, SITE_PASSWORD)
            host.add_user(EMAIL, PASSWORD)
            _seed(store, host.api_url, host.base_url + "/web", client)
            settings = WebSettings(
                secret_key=secrets.token_urlsafe(32),
                issuer_base_url="http://127.0.0.1:9/ob",
                mailer=MaildirMailer(root / "outbox"),
                client=client,
            )
            app = create_web_app(store, settings, identify=_identify)
            with serve_in_thread(app) as url, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                learner = browser.new_page(base_url=url, viewport={"width": 1000, "height": 700})
                _shoot(learner, "/", "home")
                _shoot(learner, "/connect/1", "connect")
                _shoot(learner, "/backpacks/1/collections", "collections")
                _shoot(learner, "/badges", "badges")
                _shoot(learner, "/awards", "awards")
                admin = browser.new_page(
                    base_url=url,
                    viewport={"width": 1000, "height": 700},
                    extra_http_headers={"x-admin": "1"},
                )
                _shoot(admin, "/admin/backpacks", "admin-backpacks")
                _shoot(admin, "/admin/backpacks/1", "admin-edit")
                _shoot(admin, "/admin/settings", "admin-settings")
                browser.close()


if __name__ == "__main__":
    main()
