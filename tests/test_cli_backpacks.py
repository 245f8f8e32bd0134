"""``openbackpack backpacks``: add, list, edit, move, remove through the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from openbackpack.cli import app

runner = CliRunner()


def _cli(db: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", db, *args])
    return result.exit_code, result.output


def test_add_list_edit_move_remove(tmp_path: Path) -> None:
    """Each backpacks command works end to end and --json lists them primary first."""
    db = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    code, output = _cli(
        db,
        "backpacks",
        "add",
        "https://api.badgr.io/v2",
        "https://badgr.io",
        "--email",
        "issuer@example.org",
        "--password",
        "pw",
    )
    assert code == 0, output
    assert "added site backpack 1" in output
    code, _ = _cli(db, "backpacks", "add", "https://b.example/v2", "https://b.example")
    assert code == 0
    code, output = _cli(db, "backpacks", "move", "2", "up", "--json")
    assert code == 0
    listed = json.loads(output)
    assert [b["id"] for b in listed] == [2, 1]
    assert listed[0]["primary"] is True
    assert listed[1]["site_account"] == "issuer@example.org"
    assert "pw" not in output
    code, output = _cli(db, "backpacks", "edit", "1", "--web-url", "https://app.badgr.io")
    assert code == 0, output
    code, output = _cli(db, "backpacks", "remove", "1")
    assert code == 0, output
    code, output = _cli(db, "backpacks", "list")
    assert code == 0
    assert "https://b.example" in output
    assert "badgr.io" not in output


def test_errors_exit_with_one_line(tmp_path: Path) -> None:
    """A bad version or removing the primary is exit code 1 with the reason."""
    db = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    code, output = _cli(
        db, "backpacks", "add", "https://a.example", "https://a.example", "--api-version", "4"
    )
    assert code == 1
    assert "unknown backpack API version '4'" in output
    _cli(db, "backpacks", "add", "https://a.example", "https://a.example")
    code, output = _cli(db, "backpacks", "remove", "1")
    assert code == 1
    assert "primary" in output


def test_usage_error_exits_with_2(tmp_path: Path) -> None:
    """A missing argument is a usage error with exit code 2."""
    code, _ = _cli(f"sqlite:///{tmp_path / 'x.sqlite3'}", "backpacks", "add")
    assert code == 2
