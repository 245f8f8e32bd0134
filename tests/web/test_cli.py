"""``openbackpack web serve``: the pages through the real entry point, and its demo login."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from typer.testing import CliRunner

from openbackpack.cli import app
from openbackpack.store import SecretBox

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An SQLite store URL with its key and an outbox in the environment."""
    monkeypatch.setenv("OPENBACKPACK_SECRET_KEY", SecretBox.generate_key())
    monkeypatch.setenv("OPENBACKPACK_OUTBOX", str(tmp_path / "outbox"))
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


def test_demo_login_is_refused_off_loopback(db: str) -> None:
    """--demo-login with a non-loopback --host exits 2 with the reason and serves nothing."""
    result = CliRunner().invoke(
        app,
        ["--db", db, "web", "serve", "--host", "0.0.0.0", "--demo-login"],  # noqa: S104
    )
    assert result.exit_code == 2
    assert "loopback" in result.output


def test_web_serve_prints_its_url_and_the_demo_login_works(db: str) -> None:
    """web serve --port 0 --demo-login serves the pages; a demo admin reaches the admin pages."""
    command = [sys.executable, "-m", "openbackpack", "--db", db, "web", "serve", "--demo-login"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("openbackpack pages at http://127.0.0.1:")
        base = line.rsplit(" ", 1)[1].rstrip("/")
        with httpx2.Client(base_url=base, timeout=10) as browser:
            assert browser.get("/").headers["location"] == "/demo-login"
            form = browser.get("/demo-login")
            token = _TOKEN.search(form.text)
            assert token is not None
            logged_in = browser.post(
                "/demo-login", data={"csrf_token": token.group(1), "user": "ada", "admin": "yes"}
            )
            assert logged_in.status_code == 303
            assert "Manage backpacks" in browser.get("/").text
            assert browser.get("/admin/backpacks").status_code == 200
            assert browser.get("/issuer/ob/issuers/1").status_code == 404
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
