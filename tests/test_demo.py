"""`openbackpack demo` runs end to end in a subprocess, as a user would run it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest


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


def _ignore_sigint() -> None:
    # What a shell without job control does to a command started with `&`.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_demo_keep_serves_until_interrupted_and_leaves_the_store(
    tmp_path: Path, stop: signal.Signals
) -> None:
    """With --keep the host answers until Ctrl-C or SIGTERM (SIGINT even if inherited ignored)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBACKPACK_")}
    env["TMPDIR"] = str(tmp_path)
    with subprocess.Popen(
        [sys.executable, "-m", "openbackpack", "demo", "--keep"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        preexec_fn=_ignore_sigint,
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
        process.send_signal(stop)
        try:
            rest, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert answer.status_code == 404
    assert "stopped" in rest
    assert process.returncode == 0
    assert Path(printed["store"].removeprefix("sqlite:///")).exists()


def _log_in(browser: httpx2.Client, user: str, *, admin: bool) -> None:
    form = browser.get("/demo-login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    fields = {"csrf_token": token.group(1), "user": user, **({"admin": "yes"} if admin else {})}
    assert browser.post("/demo-login", data=fields).status_code == 303


def _check_pages(base: str) -> None:
    with httpx2.Client(base_url=base, timeout=10) as nobody:
        assert nobody.get("/").headers["location"] == "/demo-login"
    with httpx2.Client(base_url=base, timeout=10) as learner:
        _log_in(learner, "learner-1", admin=False)
        home = learner.get("/")
        assert home.status_code == 200
        assert "Backpacks on offer" in home.text
        assert "API 2.1" in home.text
        assert "Open Badges explorer" in learner.get("/awards").text
        assert learner.get("/admin/backpacks").status_code == 403
    with httpx2.Client(base_url=base, timeout=10) as admin:
        _log_in(admin, "admin-1", admin=True)
        listed = admin.get("/admin/backpacks")
        assert listed.status_code == 200
        assert listed.text.count('<tr id="backpack-') == 2


def test_demo_web_serves_the_pages_with_a_demo_learner_and_admin(tmp_path: Path) -> None:
    """demo --web prints the URL and logins; both work over HTTP; Ctrl-C ends it cleanly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBACKPACK_")}
    env["TMPDIR"] = str(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "openbackpack", "demo", "--web"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        printed: list[str] = []
        for line in process.stdout:
            printed.append(line)
            if "serving until Ctrl-C" in line:
                break
        base = printed[0].split(" at ", 1)[1].strip().rstrip("/")
        assert base.startswith("http://127.0.0.1:")
        assert f"demo login at {base}/demo-login" in "".join(printed)
        assert "learner-1" in "".join(printed)
        _check_pages(base)
    finally:
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "stopped" in rest
    assert "Traceback" not in errors
    assert errors.strip() == ""
