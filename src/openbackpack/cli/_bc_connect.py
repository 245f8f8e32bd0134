"""``openbackpack connect`` for Badge Connect (2.1) backpacks: loopback, pasted or two-step.

Hosts that accept a loopback ``http`` redirect get the listener (``cli._badgeconnect``). Hosts
that want https on the platform's own host (Badgr) get ``--redirect-uri``: the command prints
the authorization URL and reads back the address the browser was sent to (or just the code);
with nothing pasted, the pending authorization stays for ``--callback-url`` to finish.
"""

from __future__ import annotations

import sys
from typing import Final

import typer

from openbackpack._exceptions import APIStatusError
from openbackpack.cli._badgeconnect import (
    ConnectTimeoutError,
    begin_with_redirect,
    callback_of,
    connect_in_browser,
    finish_with_callback,
)
from openbackpack.cli._output import err, out
from openbackpack.services import DEFAULT_STATE_TTL
from openbackpack.store import BackpackAccount, Store

__all__ = ["connect_badge_connect"]

_HINT: Final = (
    "Badge Connect hosts such as Badgr want https URLs on one host: pass "
    "--redirect-uri https://YOUR.SITE/PATH (a page of your site that shows the code) and set "
    "openbackpack settings set site_url https://YOUR.SITE (and site_logo_url, a logo the host "
    "can fetch)"
)


def _line(text: str) -> None:
    # print() with flush, not rich: the address must reach a pipe whole and at once.
    print(text, flush=True)


def _refused(exc: APIStatusError, redirect_uri: str | None) -> typer.Exit:
    reason = exc.description or str(exc)
    where = redirect_uri or "the loopback listener http://127.0.0.1:PORT/callback"
    err.print(
        f"error: the backpack refused to register this site as a client for {where}: "
        f"{reason}. {_HINT}; nothing was connected",
        markup=False,
    )
    return typer.Exit(1)


def _connected(account: BackpackAccount) -> None:
    out.print(
        f"connected {account.email} on backpack {account.provider_id} (account {account.id})",
        markup=False,
    )


def _by_paste(store: Store, user: str, backpack: int, email: str | None, redirect: str) -> None:
    url, state = begin_with_redirect(store, user, backpack, redirect, email=email)
    _line("Open this address in a browser, log in to the backpack and allow the connection:")
    _line(url)
    _line(f"The backpack then sends the browser to {redirect}?code=...")
    _line("Paste that whole address (or only the code) here:")
    pasted = sys.stdin.readline()
    if not pasted.strip():
        minutes = int(DEFAULT_STATE_TTL.total_seconds() // 60)
        _line(
            f"nothing pasted; within {minutes} minutes finish with: openbackpack connect "
            f"--user {user} --backpack {backpack} --callback-url 'ADDRESS'"
        )
        return
    _connected(finish_with_callback(store, callback_of(pasted, state)))


def connect_badge_connect(
    store: Store,
    user: str,
    backpack: int,
    *,
    email: str | None,
    browser: bool,
    timeout: float,
    redirect_uri: str | None,
    callback_url: str | None,
) -> None:
    """Connect ``user``'s 2.1 backpack the way the options ask; exit 1 with one line on failure."""
    try:
        if callback_url is not None:
            _connected(finish_with_callback(store, callback_of(callback_url)))
        elif redirect_uri is not None:
            _by_paste(store, user, backpack, email, redirect_uri)
        else:
            account = connect_in_browser(
                store, user, backpack, email=email, open_browser=browser, timeout=timeout,
                show=_line,
            )  # fmt: skip
            _connected(account)
    except ConnectTimeoutError as exc:
        err.print(f"error: {exc}; nothing was connected", markup=False)
        raise typer.Exit(1) from None
    except APIStatusError as exc:
        if exc.action != "register":
            raise
        raise _refused(exc, redirect_uri) from None
