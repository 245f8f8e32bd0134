"""Connecting a Badge Connect backpack that, like Badgr, registers only https clients."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from openbackpack.cli import app
from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.services import add_backpack
from openbackpack.store import Store
from tests.services._bc import consent_location, new_learner

# The Badge Connect host announces loopback URLs.
pytestmark = pytest.mark.usefixtures("loopback_allowed")

runner = CliRunner()
SITE = "https://lms.example.org"
REDIRECT = SITE + "/badges/callback"


@pytest.fixture(scope="module")
def strict_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A host with Badgr's registration rules: https only, one host, no loopback redirects."""
    directory: Path = tmp_path_factory.mktemp("strict")
    settings = HostSettings(
        db_url=f"sqlite:///{directory / 'host.sqlite3'}",
        allow_private_fetch=False,
        allow_loopback_redirects=False,
        login_backoff_max=0,
    )
    with run_host_in_thread(settings) as running:
        yield running


@pytest.fixture
def env(store: Store, secret_key: str) -> dict[str, str]:
    """What the commands need: the test store and its key."""
    return {
        "OPENBACKPACK_DB": store.engine.url.render_as_string(hide_password=False),
        "OPENBACKPACK_SECRET_KEY": secret_key,
    }


@pytest.fixture
def provider_id(store: Store, strict_host: RunningHost) -> int:
    """The strict host as a 2.1 backpack of the store."""
    return add_backpack(store, strict_host.base_url + "/api", strict_host.base_url, "2.1").id


def _run(env: dict[str, str], *args: str, stdin: str = "") -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env, input=stdin)
    return result.exit_code, result.output


def _url_in(output: str) -> str:
    return next(line for line in output.splitlines() if "/o/authorize?" in line).strip()


def test_loopback_refusal_names_what_was_refused_and_what_to_pass(
    provider_id: int, env: dict[str, str]
) -> None:
    """A host refusing loopback http redirects fails connect with its reason and the options."""
    code, output = _run(env, "connect", "--user", "7", "--backpack", str(provider_id),
                        "--no-browser", "--timeout", "5")  # fmt: skip
    assert code == 1
    assert "refused to register" in output
    assert "Must be a valid HTTPS URI" in output
    assert "--redirect-uri" in output
    assert "site_url" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("paste", ["address", "code"])
def test_https_redirect_connects_with_pasted_address(
    provider_id: int, strict_host: RunningHost, env: dict[str, str], paste: str
) -> None:
    """With site_url and --redirect-uri, pasting the landing address (or its code) connects."""
    assert _run(env, "settings", "set", "site_url", SITE)[0] == 0
    assert _run(env, "settings", "set", "site_logo_url", SITE + "/logo.png")[0] == 0
    email = new_learner(strict_host)
    command = [
        sys.executable, "-m", "openbackpack", "connect", "--user", "7",
        "--backpack", str(provider_id), "--redirect-uri", REDIRECT,
    ]  # fmt: skip
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, **env},
    ) as process:  # fmt: skip
        assert process.stdout is not None
        assert process.stdin is not None
        url = next(line.strip() for line in process.stdout if "/o/authorize?" in line)
        location = consent_location(url, email)
        assert location.startswith(REDIRECT + "?")
        pasted = location if paste == "address" else parse_qs(urlsplit(location).query)["code"][0]
        output, errors = process.communicate(pasted + "\n", timeout=60)
    assert process.returncode == 0, errors
    assert f"connected {email} on backpack {provider_id}" in output


def test_nothing_pasted_then_callback_url_finishes(
    provider_id: int, strict_host: RunningHost, env: dict[str, str]
) -> None:
    """With nothing pasted the authorization waits; --callback-url then finishes it."""
    assert _run(env, "settings", "set", "site_url", SITE)[0] == 0
    email = new_learner(strict_host)
    code, output = _run(env, "connect", "--user", "8", "--backpack", str(provider_id),
                        "--redirect-uri", REDIRECT)  # fmt: skip
    assert code == 0, output
    assert "--callback-url" in output
    location = consent_location(_url_in(output), email)
    code, output = _run(env, "connect", "--user", "8", "--backpack", str(provider_id),
                        "--callback-url", location)  # fmt: skip
    assert code == 0, output
    assert f"connected {email} on backpack {provider_id}" in output


def test_site_url_must_be_https(env: dict[str, str]) -> None:
    """settings set site_url refuses a plain http URL with a clear error."""
    code, output = _run(env, "settings", "set", "site_url", "http://lms.example.org")
    assert code != 0
    assert "site_url must be an https URL" in output
