"""`openbackpack demo` runs end to end in a subprocess, as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_demo_runs_every_step_and_exits_0(tmp_path: Path) -> None:
    """The demo prints each step once with its openbackpack command, and exits 0 unconfigured."""
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
        assert result.stdout.count(step) == 1, step
    lines = result.stdout.splitlines()
    done = [i for i, line in enumerate(lines) if line.startswith("✓ ")]
    assert len(done) == 8
    assert all(lines[i + 1].startswith("  $ openbackpack ") for i in done)
    assert "openbackpack demo: 8 steps done" in result.stdout
    assert not (tmp_path / "data" / "openbackpack").exists()


def test_demo_keep_serves_until_interrupted_and_leaves_the_store(tmp_path: Path) -> None:
    """With --keep the host keeps answering at the printed URL until Ctrl-C; the store stays."""
    import signal

    import httpx2

    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBACKPACK_")}
    env["TMPDIR"] = str(tmp_path)
    with subprocess.Popen(
        [sys.executable, "-m", "openbackpack", "demo", "--keep"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    ) as process:
        assert process.stdout is not None
        printed: dict[str, str] = {}
        for line in process.stdout:
            key, _, value = line.partition(":")
            if key in ("store", "host"):
                printed[key] = value.split()[0]
            if "serving until Ctrl-C" in line:
                break
        answer = httpx2.get(printed["host"] + "/public/issuers/unknown", timeout=10)
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert answer.status_code == 404
    assert process.returncode == 0
    assert Path(printed["store"].removeprefix("sqlite:///")).exists()
