"""The ``openbackpack host`` commands: add-user and serve."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx2
from typer.testing import CliRunner

from openbackpack.cli import app

runner = CliRunner()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openbackpack", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_add_user_creates_an_account_and_never_prints_the_password(tmp_path: Path) -> None:
    """add-user stores the account in the --db database and echoes no secret."""
    db = f"sqlite:///{tmp_path / 'host.sqlite3'}"
    args = ["host", "add-user", "Earner@Example.org", "--password", "s3cret-pw", "--db", db]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "earner@example.org" in result.stdout
    assert "s3cret-pw" not in result.output
    again = _run("host", "add-user", "earner@example.org", "--password", "x", "--db", db)
    assert again.returncode == 1
    assert again.stderr.startswith("error: a user with email 'earner@example.org' already exists")


def test_add_user_prompts_for_a_hidden_password(tmp_path: Path) -> None:
    """Without --password the password is read from a prompt."""
    db = f"sqlite:///{tmp_path / 'host.sqlite3'}"
    result = runner.invoke(app, ["host", "add-user", "p@example.org", "--db", db], input="pw\n")
    assert result.exit_code == 0, result.output
    assert "added user p@example.org" in result.stdout


def test_serve_prints_its_url_and_serves_until_interrupted(tmp_path: Path) -> None:
    """serve --port 0 prints its URLs (OB 3.0 too), serves logins and issuer, stops on SIGINT."""
    db = f"sqlite:///{tmp_path / 'host.sqlite3'}"
    store = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    assert (
        _run("host", "add-user", "cli@example.org", "--password", "pw", "--db", db).returncode == 0
    )
    added = _run(
        "--db", store, "issuer", "add", "--name", "CLI University", "--url",
        "https://cli.example", "--email", "badges@cli.example",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    command = [
        sys.executable, "-m", "openbackpack", "--db", store, "host", "serve", "--port", "0",
        "--db", db,
    ]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("openbackpack host listening on http://127.0.0.1:")
            base_url = line.split()[4]
            token = httpx2.post(
                f"{base_url}/o/token", data={"username": "cli@example.org", "password": "pw"}
            )
            assert token.status_code == 200
            issuer = httpx2.get(f"{base_url}/issuer/ob/issuers/1")
            assert issuer.status_code == 200
            assert issuer.json()["name"] == "CLI University"
            assert issuer.json()["id"] == f"{base_url}/issuer/ob/issuers/1"
            process.stdout.readline()  # the Badge Connect line
            discovery = process.stdout.readline().strip()
            assert discovery == f"Open Badges 3.0 API: {base_url}/ims/ob/v3p0/discovery"
            assert httpx2.get(discovery.split()[-1]).status_code == 200
        finally:
            process.send_signal(signal.SIGINT)
            rest, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "stopped" in rest


def test_serve_rejects_impossible_fault_settings() -> None:
    """A failure rate above 1 is refused with one error line and exit code 1."""
    result = _run("host", "serve", "--failure-rate", "2")
    assert result.returncode == 1
    assert "failure_rate must be between 0 and 1" in result.stderr


def test_serve_with_badgr_quirks_and_loopback_redirects(tmp_path: Path) -> None:
    """--badgr-quirks serves Badgr's Badge Connect; --allow-loopback-redirects registers them."""
    db = f"sqlite:///{tmp_path / 'host.sqlite3'}"
    command = [
        sys.executable, "-m", "openbackpack", "host", "serve", "--port", "0", "--db", db,
        "--no-issuer", "--badgr-quirks", "--allow-loopback-redirects",
    ]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().split()[4]
            announced = process.stdout.readline()
            assert f"apiBase {base_url}/bcv1" in announced
            manifest = httpx2.get(f"{base_url}/.well-known/badgeconnect.json")
            assert manifest.status_code == 302
            loopback = "http://127.0.0.1:1"
            registration = httpx2.post(
                f"{base_url}/o/register",
                json={
                    "client_name": "c", "client_uri": loopback + "/", "logo_uri": loopback + "/l",
                    "tos_uri": loopback + "/", "policy_uri": loopback + "/", "software_id": "s",
                    "software_version": "1", "redirect_uris": [loopback + "/callback"],
                },
            )  # fmt: skip
            assert registration.status_code == 201, registration.text
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=20)
    assert process.returncode == 0


def test_user_email_and_published_collection_commands(tmp_path: Path) -> None:
    """host user add|list, email add and collection add --published build what a learner needs."""
    from openbackpack.host import HostSettings, run_host_in_thread

    db = f"sqlite:///{tmp_path / 'host.sqlite3'}"
    for args in (
        ["host", "user", "add", "learner@example.org", "--password", "pw", "--db", db],
        ["host", "email", "add", "learner@example.org", "second@example.org", "--db", db],
        ["host", "email", "add", "learner@example.org", "maybe@example.org", "--no-verified",
         "--db", db],
        ["host", "add-user", "issuer@example.org", "--password", "pw2", "--db", db],
    ):  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["host", "user", "list", "--db", db, "--json"])
    assert listed.exit_code == 0, listed.output
    users = {u["emails"][0]: u for u in __import__("json").loads(listed.stdout)}
    assert users["learner@example.org"]["verified_emails"] == [
        "learner@example.org",
        "second@example.org",
    ]
    assert "maybe@example.org" in users["learner@example.org"]["emails"]
    made = runner.invoke(
        app,
        ["host", "collection", "add", "--user", "second@example.org", "--name", "Shown",
         "--published", "--db", db],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "(published, 0 badge(s)) for learner@example.org" in made.stdout
    missing = runner.invoke(
        app, ["host", "collection", "add", "--user", "x@example.org", "--name", "N", "--db", db]
    )
    assert missing.exit_code == 1
    with run_host_in_thread(HostSettings(db_url=db)) as host:
        token = httpx2.post(
            host.base_url + "/o/token", data={"username": "learner@example.org", "password": "pw"}
        ).json()["access_token"]
        found = httpx2.get(
            host.api_url + "/backpack/collections",
            headers={"Authorization": f"Bearer {token}"},
        ).json()["result"]
    assert [(c["name"], c["published"]) for c in found] == [("Shown", True)]
