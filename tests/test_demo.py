"""`openbackpack demo` runs end to end in a subprocess, as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_demo_runs_every_step_and_exits_0(tmp_path: Path) -> None:
    """The demo prints each step, ends with its table, and exits 0 with nothing configured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBACKPACK_")}
    env["HOME"] = str(tmp_path)
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "-m", "openbackpack", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for step in (
        "create host accounts",
        "register the primary site backpack",
        "issue a badge",
        "connect the learner's backpack",
        "add the badge to the backpack: added",
        "choose the learner's collection",
        "list the learner's external badges: 1 badge(s): Open Badges explorer (recipient verified)",
        "disconnect: account removed",
    ):
        assert step in result.stdout
    assert "openbackpack demo" in result.stdout
    assert not (tmp_path / "data" / "openbackpack").exists()
