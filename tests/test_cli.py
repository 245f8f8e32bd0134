"""The command line: global options, the db commands, errors and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from openbackpack import __version__
from openbackpack.cli import app

runner = CliRunner()


def test_version_prints_the_package_version() -> None:
    """--version prints the installed version and exits 0."""
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"openbackpack {__version__}"


def test_db_upgrade_creates_and_migrates_the_store(tmp_path: Path) -> None:
    """db upgrade creates the SQLite file named by --db and reports it up to date."""
    path = tmp_path / "cli.sqlite3"
    result = runner.invoke(app, ["--db", f"sqlite:///{path}", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.stdout
    assert path.exists()
    current = runner.invoke(app, ["--db", f"sqlite:///{path}", "db", "current"])
    assert current.exit_code == 0
    assert "schema current" in current.stdout


def test_db_env_variable_chooses_the_store(tmp_path: Path) -> None:
    """OPENBACKPACK_DB is used when --db is not given."""
    path = tmp_path / "env.sqlite3"
    result = runner.invoke(app, ["db", "upgrade"], env={"OPENBACKPACK_DB": f"sqlite:///{path}"})
    assert result.exit_code == 0, result.output
    assert path.exists()


def test_new_key_prints_a_usable_key() -> None:
    """db new-key prints a Fernet key the store accepts."""
    from openbackpack.store import SecretBox

    result = runner.invoke(app, ["db", "new-key"])
    assert result.exit_code == 0
    SecretBox(result.stdout.strip())


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openbackpack", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_error_is_one_line_and_exit_code_1() -> None:
    """A deliberate error prints one line on stderr, no traceback, and exits with 1."""
    result = _run("--db", "mysql://root:hunter2@localhost/x", "db", "current")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: unsupported database")
    assert "hunter2" not in result.stderr


def test_usage_error_exits_with_2() -> None:
    """An unknown command is a usage error: exit code 2."""
    result = _run("db", "no-such-command")
    assert result.returncode == 2
    assert "No such command" in result.stderr


def test_db_current_refuses_a_missing_store_and_creates_nothing(tmp_path: Path) -> None:
    """db current on a path with no store says so in one error line and creates no file."""
    path = tmp_path / "missing.sqlite3"
    result = _run("--db", f"sqlite:///{path}", "db", "current")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: no store at {path}: create it with")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not path.exists()
    assert not (tmp_path / "missing.sqlite3.key").exists()
