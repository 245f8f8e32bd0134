"""``openbackpack move`` on the command line: the plan, errors, and SIGKILL'd runs resumed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openbackpack.cli import app
from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.store import Store
from tests.services._move import OWNER, World, dropping, learner_world

pytestmark = pytest.mark.usefixtures("loopback_allowed")

_ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHost, RunningHost]]:
    """A source and a target Badgr host for the module."""
    directory = tmp_path_factory.mktemp("move-cli-hosts")
    settings = [
        HostSettings(
            db_url=f"sqlite:///{directory / f'{name}.sqlite3'}",
            allow_private_fetch=True,
            login_backoff_max=0,
        )
        for name in ("source", "target")
    ]
    with run_host_in_thread(settings[0]) as source, run_host_in_thread(settings[1]) as target:
        yield source, target


@pytest.fixture
def world(store: Store, hosts: tuple[RunningHost, RunningHost]) -> Iterator[World]:
    """A fresh learner with a Badgr backpack on each host, and the issuer site running."""
    with learner_world(store, hosts) as world:
        yield world


def _env(world: World, key: str) -> dict[str, str]:
    return {
        **os.environ,
        "OPENBACKPACK_DB": world.store.engine.url.render_as_string(hide_password=False),
        "OPENBACKPACK_SECRET_KEY": key,
        "PYTHONPATH": str(_ROOT),
    }


def test_dry_run_prints_the_plan_as_json(world: World, secret_key: str) -> None:
    """``move --dry-run --json`` prints every badge with its verdict and plan, sends nothing."""
    world.import_into_source(world.award())
    result = runner.invoke(
        app,
        ["move", "--user", OWNER, "--from", str(world.source_id), "--to", str(world.target_id),
         "--dry-run", "--json"],
        env=_env(world, secret_key),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dry_run"] is True
    assert [(b["verdict"], b["action"], b["how"]) for b in report["badges"]] == [
        ("valid", "move", "v2 import by URL")
    ]
    assert world.held_ids(world.target_id) == []


def test_move_by_url_names_prints_a_table_and_exits_zero(world: World, secret_key: str) -> None:
    """Backpacks may be named by their API URL; the table lists each badge and its proof."""
    world.import_into_source(world.award())
    target_url = world.backpack(world.target_id).provider.api_url
    result = runner.invoke(
        app,
        ["move", "--user", OWNER, "--from", str(world.source_id), "--to", target_url],
        env=_env(world, secret_key),
    )
    assert result.exit_code == 0, result.output
    assert "proved" in result.output
    assert "move: 1" in result.output
    assert len(world.held_ids(world.target_id)) == 1


@pytest.mark.parametrize(("resend", "sends", "code"), [(1, 2, 0), (0, 1, 1)])
def test_resend_flag_sends_a_dropped_badge_again_or_not(
    world: World, hosts: tuple[RunningHost, RunningHost], secret_key: str,
    resend: int, sends: int, code: int,
) -> None:  # fmt: skip
    """``--resend N`` re-sends a badge the target dropped (1: then proved), ``--resend 0`` not."""
    world.import_into_source(world.award())
    with dropping(hosts[1], 1):
        result = runner.invoke(
            app,
            ["move", "--user", OWNER, "--from", str(world.source_id), "--to",
             str(world.target_id), "--json", "--resend", str(resend)],
            env=_env(world, secret_key),
        )  # fmt: skip
    assert result.exit_code == code, result.output
    badge = json.loads(result.stdout)["badges"][0]
    assert (badge["sends"], badge["proof"]) == (sends, "proved" if code == 0 else "missing")
    assert badge["resent_present"] is (True if resend else None)


def test_unknown_backpacks_are_one_error_line(world: World, secret_key: str) -> None:
    """A --from that is no backpack and no file, or a --to that is not the user's: one line."""
    env = _env(world, secret_key)
    result = runner.invoke(
        app, ["move", "--user", OWNER, "--from", "/no/such/place", "--to", str(world.target_id)],
        env=env,
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: --from '/no/such/place' is neither")
    result = runner.invoke(
        app, ["move", "--user", OWNER, "--from", str(world.source_id), "--to", "99"], env=env
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.count("\n") == 1


def _child(world: World, key: str) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "openbackpack", "move", "--user", OWNER,
        "--from", str(world.source_id), "--to", str(world.target_id),
        "--json", "--rate", "25", "--concurrency", "3",
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=_ROOT,
        env=_env(world, key),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_move_killed_at_random_points_then_resumed_leaves_each_badge_once(
    world: World, secret_key: str
) -> None:
    """SIGKILL the move at random moments, run it again: every badge is at the target once."""
    hashes = [world.award() for _ in range(24)]
    world.import_into_source(*hashes)
    chance = random.Random(19)
    seen_at_kill = []
    for round_ in range(3):
        process = _child(world, secret_key)
        deadline = time.monotonic() + 30
        while len(world.held_ids(world.target_id)) < 2 + 6 * round_:
            assert time.monotonic() < deadline, process.stderr
            time.sleep(0.05)
        time.sleep(chance.uniform(0, 0.4))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        seen_at_kill.append(len(world.held_ids(world.target_id)))
    assert seen_at_kill[0] < len(hashes)  # the first kill landed in the middle of the move
    final = _child(world, secret_key)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    report = json.loads(out)
    assert report["complete"] is True
    assert {b["proof"] for b in report["badges"]} == {"proved"}
    held = Counter(world.held_ids(world.target_id))
    assert held == Counter({world.url(h): 1 for h in hashes})
