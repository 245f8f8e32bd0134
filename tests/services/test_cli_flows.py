"""The flows through the command line, against the reference hosts: exit codes and output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openbackpack.cli import app
from openbackpack.client import BackpackClient
from openbackpack.services import MaildirMailer
from openbackpack.store import Store

from .conftest import (
    ISSUER_BASE,
    LEARNER,
    LEARNER_EMAIL,
    LEARNER_PASSWORD,
    Hosts,
    Site,
    award,
    collection,
)

runner = CliRunner()


@pytest.fixture
def cli_env(site: Site, tmp_path: Path, secret_key: str) -> dict[str, str]:
    """Environment for the commands: the test store, its key, an outbox."""
    return {
        "OPENBACKPACK_DB": site.store.engine.url.render_as_string(hide_password=False),
        "OPENBACKPACK_SECRET_KEY": secret_key,
        "OPENBACKPACK_OUTBOX": str(tmp_path / "cli-outbox"),
        "OPENBACKPACK_ISSUER_URL": ISSUER_BASE,
    }


def _run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_connect_verify_push_select_show_disconnect(
    site: Site, hosts: Hosts, cli_env: dict[str, str], client: BackpackClient
) -> None:
    """The whole user journey works through the CLI, with --json listings."""
    code, output = _run(
        cli_env, "connect", "--user", LEARNER, "--backpack", str(site.primary_id),
        "--email", LEARNER_EMAIL, "--password", LEARNER_PASSWORD,
    )  # fmt: skip
    assert code == 0, output
    assert "cli-outbox" in output
    body = MaildirMailer(Path(cli_env["OPENBACKPACK_OUTBOX"])).messages()[-1].get_content()
    found = re.search(r"verification code is: (\S+)", body)
    assert found is not None
    code, output = _run(cli_env, "verify", "--user", LEARNER, found.group(1))
    assert code == 0, output
    assert f"connected {LEARNER_EMAIL}" in output
    award_hash = award(site)
    code, output = _run(cli_env, "push", "--user", LEARNER, award_hash, "--json")
    assert code == 0, output
    pushed = json.loads(output)
    assert pushed["results"][0]["status"] == "added"
    assertion = pushed["results"][0]["site_assertion_id"]
    chosen = collection(client, hosts.primary, LEARNER_EMAIL, LEARNER_PASSWORD, [assertion])
    code, output = _run(cli_env, "collections", "list", "--user", LEARNER, "--json")
    assert code == 0, output
    assert chosen in [c["id"] for c in json.loads(output)]
    code, output = _run(cli_env, "collections", "select", "--user", LEARNER, "--", chosen)
    assert code == 0, output
    code, output = _run(cli_env, "badges", "--user", LEARNER, "--json")
    assert code == 0, output
    shown = json.loads(output)
    assert [b["assertion_id"] for b in shown["badges"]] == [assertion]
    assert shown["badges"][0]["recipient_verified"] is True
    code, output = _run(cli_env, "badges", "--user", LEARNER)
    assert code == 0
    assert "1 badge(s) from 1 collection(s)" in output
    code, output = _run(
        cli_env, "disconnect", "--user", LEARNER, "--backpack", str(site.primary_id)
    )
    assert code == 0, output
    key = cli_env["OPENBACKPACK_SECRET_KEY"]
    with Store.open(cli_env["OPENBACKPACK_DB"], secret_key=key) as s, s.transaction() as tx:
        assert tx.accounts.list(owner=LEARNER) == []


def test_failures_are_one_line_with_exit_code_1(site: Site, cli_env: dict[str, str]) -> None:
    """A refused login and a bad code each print one error line and exit with 1."""
    code, output = _run(
        cli_env, "connect", "--user", LEARNER, "--backpack", str(site.primary_id),
        "--email", LEARNER_EMAIL, "--password", "wrong",
    )  # fmt: skip
    assert code == 1
    assert output.startswith("error: ")
    assert "Invalid credentials" in output
    code, output = _run(cli_env, "verify", "--user", LEARNER, "123")
    assert code == 1
    assert "no pending backpack connection" in output


def test_push_with_a_failure_exits_1_and_reports_it(site: Site, cli_env: dict[str, str]) -> None:
    """A site-only push of a revoked award reports it and exits with 1, pushing the others."""
    good, bad = award(site), award(site)
    with site.store.transaction() as tx:
        tx.awards.revoke(bad, "mistake")
    code, output = _run(cli_env, "push", good, bad, "--json")
    assert code == 1
    report = json.loads(output)
    assert [r["award_hash"] for r in report["results"]] == [good]
    assert report["failures"][0]["award_hash"] == bad


def test_site_backpack_test_command(site: Site, cli_env: dict[str, str]) -> None:
    """`backpacks test` succeeds for the primary and exits 1 for one with no site account."""
    code, output = _run(cli_env, "backpacks", "test", str(site.primary_id))
    assert code == 0, output
    assert "successfully established" in output
    code, output = _run(cli_env, "backpacks", "test", str(site.other_id))
    assert code == 1
    assert "no site account" in output
