"""Driving the pages in Debian's Chromium with Playwright, and axe-core in each page seen.

Playwright's own browser download is not available offline, so the system binary is
launched; the browser tests are skipped (with the reason) where it is not installed, and
the accessibility checks where axe-core is not. ``.ci/run`` installs both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / ".cache/npm/node_modules/axe-core/axe.min.js"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium")
needs_axe = pytest.mark.skipif(
    not AXE.exists(),
    reason="axe-core not installed: npm install --no-save --prefix .cache/npm axe-core@4",
)


@contextmanager
def browser_context(
    browser: Browser, base_url: str, user: str, *, admin: bool = False
) -> Iterator[BrowserContext]:
    """A fresh browser profile logged in as ``user``, for which axe-core may be injected.

    The checker is a script, which the pages' CSP (rightly) forbids: only in these contexts
    is the CSP bypassed; the headers themselves are tested over HTTP.
    """
    headers = {"x-user": user, **({"x-admin": "1"} if admin else {})}
    context = browser.new_context(base_url=base_url, bypass_csp=True, extra_http_headers=headers)
    try:
        yield context
    finally:
        context.close()


def serious_violations(page: Page) -> list[str]:
    """The ids of the serious or critical axe-core violations in the page as it is now."""
    page.wait_for_load_state()
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run()).violations")
    return [v["id"] for v in violations if v["impact"] in ("serious", "critical")]


class Axe:
    """Runs axe-core in every page it is shown and keeps what it found, by address."""

    def __init__(self) -> None:
        self.checked: list[str] = []
        self.found: dict[str, list[str]] = {}

    def check(self, page: Page) -> None:
        """Check the page as it is now."""
        serious = serious_violations(page)
        self.checked.append(page.url)
        if serious:
            self.found[page.url] = serious


def tab_to(page: Page, element_id: str, *, limit: int = 40) -> int:
    """Press Tab until the element with ``element_id`` has the focus; return how many presses.

    Fails when the element cannot be reached by the keyboard within ``limit`` presses.
    """
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return presses
    raise AssertionError(f"#{element_id} was not reached with {limit} presses of Tab")
