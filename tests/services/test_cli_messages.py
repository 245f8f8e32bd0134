"""What the command line says when a backpack call fails: the user's words, one line."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openbackpack.cli import app
from openbackpack.services import add_backpack
from openbackpack.store import Store

from .conftest import ISSUER_BASE, ISSUER_EMAIL, LEARNER, LEARNER_EMAIL, Site

runner = CliRunner()


@pytest.fixture
def env(site: Site, tmp_path: Path, secret_key: str) -> dict[str, str]:
    """Environment for the commands: the test store, its key, an outbox."""
    return {
        "OPENBACKPACK_DB": site.store.engine.url.render_as_string(hide_password=False),
        "OPENBACKPACK_SECRET_KEY": secret_key,
        "OPENBACKPACK_OUTBOX": str(tmp_path / "outbox"),
        "OPENBACKPACK_ISSUER_URL": ISSUER_BASE,
    }


def _error_line(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    return lines[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_wrong_password_says_the_backpack_refused_email_and_password(
    site: Site, env: dict[str, str]
) -> None:
    """connect with a wrong password says the email and password were not accepted, and why."""
    line = _error_line(
        env, "connect", "--user", LEARNER, "--backpack", str(site.primary_id),
        "--email", LEARNER_EMAIL, "--password", "wrong",
    )  # fmt: skip
    assert line == (
        "error: the backpack did not accept the email and password (HTTP 400): "
        "Invalid credentials given."
    )


def test_an_unreachable_backpack_is_not_called_a_refusal(store: Store, env: dict[str, str]) -> None:
    """`backpacks test` on a host nobody listens on says it could not reach the backpack."""
    url = f"http://127.0.0.1:{_closed_port()}"
    provider = add_backpack(store, url + "/v2", url + "/web", "2", email=ISSUER_EMAIL, password="x")
    result = runner.invoke(app, ["backpacks", "test", str(provider.id)], env=env)
    assert result.exit_code == 1, result.output
    assert "could not reach the backpack to log in" in result.output
    assert result.output.startswith("the site account could not log in: could not reach")
    assert "refused the site account" not in result.output


def test_collections_on_a_badge_connect_account_says_there_are_none(
    store: Store, env: dict[str, str]
) -> None:
    """`collections list` on a 2.1 account says 2.1 backpacks have no collections, before I/O."""
    url = f"http://127.0.0.1:{_closed_port()}"
    with store.transaction() as tx:
        provider = tx.providers.create(url, url + "/web", "2.1")
        tx.accounts.create(provider.id, LEARNER, LEARNER_EMAIL, "")
    line = _error_line(env, "collections", "list", "--user", LEARNER)
    assert "has no collections" in line
    assert "Badge Connect (API version 2.1)" in line
    assert "Badgr/Displayer actions" not in line
