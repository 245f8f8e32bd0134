"""The command line of the jobs: limits on backpacks, and the errors without a broker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openbackpack.cli import app

# A migrated store at store_url (PostgreSQL stores are not migrated on open).
pytestmark = pytest.mark.usefixtures("store")

runner = CliRunner()


@pytest.fixture(autouse=True)
def _store_key(secret_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands open the fixture's store with its key."""
    monkeypatch.setenv("OPENBACKPACK_SECRET_KEY", secret_key)


def _cli(store_url: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", store_url, *args], env=env)
    return result.exit_code, result.output


def test_backpacks_add_and_edit_set_and_clear_the_shared_rate_limit(store_url: str) -> None:
    """--rate-limit and --burst are stored on the provider; --no-rate-limit clears both."""
    code, output = _cli(store_url, "backpacks", "add", "https://b.example.org/v2",
                        "https://b.example.org", "--rate-limit", "100", "--burst", "20",
                        "--json")  # fmt: skip
    assert code == 0, output
    added = json.loads(output)
    assert (added["rate_limit"], added["burst"]) == (100.0, 20)
    code, output = _cli(store_url, "backpacks", "edit", str(added["id"]), "--rate-limit", "50",
                        "--json")  # fmt: skip
    assert (json.loads(output)["rate_limit"], json.loads(output)["burst"]) == (50.0, 20)
    code, output = _cli(store_url, "backpacks", "edit", str(added["id"]), "--no-rate-limit",
                        "--json")  # fmt: skip
    assert (json.loads(output)["rate_limit"], json.loads(output)["burst"]) == (None, None)


def test_a_burst_without_a_rate_is_refused(store_url: str) -> None:
    """--burst alone on a backpack without a limit is one error line naming --rate-limit."""
    code, output = _cli(store_url, "backpacks", "add", "https://c.example.org/v2",
                        "https://c.example.org", "--burst", "5")  # fmt: skip
    assert code == 1
    assert output.startswith("error: --burst needs a --rate-limit")


def test_push_queue_and_worker_without_a_broker_say_what_to_set(store_url: str) -> None:
    """Without OPENBACKPACK_BROKER, push --queue and worker name the variable; nothing queued."""
    for args in (["push", "abc", "--base-url", "http://127.0.0.1:9/i", "--queue", "q"],
                 ["worker", "--local"]):  # fmt: skip
        code, output = _cli(store_url, *args, env={"OPENBACKPACK_BROKER": ""})
        assert code == 1
        assert output.startswith("error: no broker is configured: set OPENBACKPACK_BROKER")
    code, output = _cli(store_url, "jobs", "list", "--json")
    assert (code, json.loads(output)) == (0, [])


def test_jobs_show_of_an_unknown_job_is_one_error_line(store_url: str) -> None:
    """jobs show and jobs cancel of an id that is not there: error, exit 1, no traceback."""
    for command in ("show", "cancel"):
        code, output = _cli(store_url, "jobs", command, "nope")
        assert code == 1
        assert output.startswith("error: ")
        assert "nope" in output


@pytest.mark.parametrize("value", ["soon", "0", "-5", "nan", "inf"])
def test_a_worker_refuses_a_refresh_interval_that_is_not_a_positive_number(
    store_url: str, value: str
) -> None:
    """OPENBACKPACK_REFRESH_EVERY that is no positive number of seconds: one error line, exit 1."""
    env = {"OPENBACKPACK_BROKER": "redis://127.0.0.1:1/0", "OPENBACKPACK_REFRESH_EVERY": value}
    code, output = _cli(store_url, "worker", "--local", "--beat", env=env)
    assert code == 1
    assert output.startswith(
        f"error: OPENBACKPACK_REFRESH_EVERY must be a positive number of seconds (such as 3600), "
        f"not {value!r}"
    )
    assert "Traceback" not in output


def test_a_beat_whose_data_directory_cannot_be_made_is_one_error_line(
    store_url: str, tmp_path: Path
) -> None:
    """worker --beat with the data directory's parent a file: an error naming it, before start."""
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    env = {"OPENBACKPACK_BROKER": "redis://127.0.0.1:1/0", "XDG_DATA_HOME": str(blocked)}
    code, output = _cli(store_url, "worker", "--local", "--beat", env=env)
    assert code == 1
    assert output.startswith(f"error: the beat keeps its schedule in {blocked / 'openbackpack'}")
    assert "set XDG_DATA_HOME to a writable directory" in output
    assert "Traceback" not in output
