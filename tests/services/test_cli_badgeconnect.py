"""The commands with a Badge Connect backpack: connect through a loopback listener, then use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx2
import pytest
from typer.testing import CliRunner

from openbackpack.cli import app
from openbackpack.host import RunningHost
from openbackpack.store import Store
from tests.services._bc import Site, badge_connect_site, consent_location, new_learner

runner = CliRunner()

# The test hosts announce loopback URLs, which clients refuse unless allowed.
pytestmark = pytest.mark.usefixtures("loopback_allowed")


@pytest.fixture
def site(store: Store, bc_host: RunningHost) -> Iterator[Site]:
    """The store with the specification host as a 2.1 backpack."""
    with badge_connect_site(store, bc_host) as running:
        yield running


@pytest.fixture
def env(site: Site, secret_key: str) -> dict[str, str]:
    """What the commands need: the test store and its key."""
    return {
        "OPENBACKPACK_DB": site.store.engine.url.render_as_string(hide_password=False),
        "OPENBACKPACK_SECRET_KEY": secret_key,
    }


def _run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_connect_with_no_browser_then_push_list_and_disconnect(
    site: Site, bc_host: RunningHost, env: dict[str, str]
) -> None:
    """connect --no-browser prints the address; following it connects; the rest works on 2.1."""
    email = new_learner(bc_host)
    command = [
        sys.executable, "-m", "openbackpack", "connect", "--user", "42",
        "--backpack", str(site.provider_id), "--no-browser", "--timeout", "60",
    ]  # fmt: skip
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    ) as process:
        assert process.stdout is not None
        url = next(line.strip() for line in process.stdout if line.startswith("http"))
        location = consent_location(url, email)
        assert location.startswith("http://127.0.0.1:")
        assert "/callback?" in location
        landing = httpx2.get(location)  # the browser follows the redirect to the listener
        assert "Backpack connected" in landing.text
        output, errors = process.communicate(timeout=60)
    assert process.returncode == 0, errors
    assert f"connected {email} on backpack {site.provider_id}" in output
    award_hash = site.award(email)
    code, output = _run(
        env, "push", "--user", "42", award_hash, "--base-url", site.issuer_url, "--json"
    )
    assert code == 0, output
    assert json.loads(output)["results"][0]["status"] == "added"
    code, output = _run(env, "badges", "--user", "42", "--json")
    assert code == 0, output
    [badge] = json.loads(output)["badges"]
    assert (badge["name"], badge["recipient_verified"]) == ("Python basics", True)
    code, output = _run(env, "disconnect", "--user", "42", "--backpack", str(site.provider_id))
    assert code == 0, output
    assert "the backpack revoked its tokens" in output


def _fake_browser(email: str, answer: str) -> tuple[list[str], object]:
    opened: list[str] = []

    def open_url(url: str) -> bool:
        opened.append(url)

        def browse() -> None:
            httpx2.get(consent_location(url, email, answer=answer))

        threading.Thread(target=browse, daemon=True).start()
        return True

    return opened, open_url


def test_connect_opens_the_browser_and_reports_a_denial(
    site: Site, bc_host: RunningHost, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --no-browser the address is opened; a denial ends with exit code 1."""
    opened, open_url = _fake_browser(new_learner(bc_host), "deny")
    monkeypatch.setattr("webbrowser.open", open_url)
    code, output = _run(env, "connect", "--user", "42", "--backpack", str(site.provider_id))
    assert code == 1
    assert "refused the connection: access_denied" in output
    assert len(opened) == 1
    assert opened[0] in output


def test_connect_times_out_cleanly(site: Site, env: dict[str, str]) -> None:
    """Nobody comes back: exit code 1, a clear message, and no pending authorization left."""
    args = ["connect", "--user", "42", "--backpack", str(site.provider_id), "--no-browser"]
    code, output = _run(env, *args, "--timeout", "1")
    assert code == 1
    assert "no answer from the browser within 1 seconds" in output
    with site.store.transaction() as tx:
        assert tx.oauth_states.find("42") == []
        assert tx.accounts.find("42", site.provider_id) is None


def test_a_later_connect_listens_on_the_registered_port(
    site: Site, bc_host: RunningHost, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second connect reuses the registration and its loopback port (no new client)."""
    email = new_learner(bc_host)
    opened, open_url = _fake_browser(email, "allow")
    monkeypatch.setattr("webbrowser.open", open_url)
    first = _run(env, "connect", "--user", "42", "--backpack", str(site.provider_id))
    assert first[0] == 0, first[1]
    with site.store.transaction() as tx:
        client = tx.oauth_clients.get(site.provider_id)
    second = _run(env, "connect", "--user", "42", "--backpack", str(site.provider_id))
    assert second[0] == 0, second[1]
    with site.store.transaction() as tx:
        again = tx.oauth_clients.get(site.provider_id)
    assert client is not None
    assert again is not None
    assert again.client_id == client.client_id
    ports = {httpx2.URL(url).params["redirect_uri"] for url in opened}
    assert len(ports) == 1


def test_v2_connect_still_needs_an_email(env: dict[str, str], store: Store) -> None:
    """On a Badgr backpack, connect without --email is a usage error (exit code 2)."""
    with store.transaction() as tx:
        provider = tx.providers.create("https://api.badgr.example/v2", "https://badgr.example", "2")
    code, output = _run(env, "connect", "--user", "42", "--backpack", str(provider.id))
    assert code == 2
    assert "--email" in output
