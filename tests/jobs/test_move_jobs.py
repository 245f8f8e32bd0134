"""Moves as jobs: queued from the command line, run by real workers over Redis and the store."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openbackpack.cli import app
from openbackpack.client import BackpackClient
from openbackpack.host import FaultSettings, HostSettings, RunningHost, run_host_in_thread
from openbackpack.jobs import create_celery_app, enqueue_move
from openbackpack.jobs._move import MoveClients, run_move
from openbackpack.store import Job, Store
from tests.jobs._deploy import Workers, wait_until, workers
from tests.services._move import OWNER, World, learner_world

pytestmark = pytest.mark.usefixtures("loopback_allowed")

RETRY_AFTER = 3
runner = CliRunner()


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHost, RunningHost]]:
    """A source and a target Badgr host for the module; the target's 429s ask for 3 s."""
    directory = tmp_path_factory.mktemp("move-job-hosts")
    settings = [
        HostSettings(
            db_url=f"sqlite:///{directory / f'{name}.sqlite3'}", allow_private_fetch=True,
            login_backoff_max=0, faults=FaultSettings(retry_after=RETRY_AFTER),
        )
        for name in ("source", "target")
    ]  # fmt: skip
    with run_host_in_thread(settings[0]) as source, run_host_in_thread(settings[1]) as target:
        yield source, target


@pytest.fixture
def world(store: Store, hosts: tuple[RunningHost, RunningHost]) -> Iterator[World]:
    """A fresh learner with a Badgr backpack on each host, and the issuer site running."""
    with learner_world(store, hosts) as world:
        yield world


def _badges(world: World, count: int) -> list[str]:
    hashes = [world.award() for _ in range(count)]
    world.import_into_source(*hashes)
    return hashes


def _queue(deployment: Workers, world: World, **options: object) -> Job:
    settings = deployment.settings
    return enqueue_move(
        create_celery_app(settings), settings, world.store, OWNER, world.source_id,
        world.target_id, **options,  # type: ignore[arg-type]
    )  # fmt: skip


def _each_once_and_proved(world: World, job_id: str, hashes: list[str]) -> None:
    with world.store.transaction() as tx:
        job = tx.jobs.get(job_id)
        items = tx.jobs.items(job_id)
    count = len(hashes)
    assert (job.state, job.total, job.done, job.failed) == ("done", count, count, 0)
    assert {(i.status, (i.detail or {}).get("proof")) for i in items} == {("done", "proved")}
    assert job.report is not None
    assert job.report["complete"] is True
    # One copy of each badge at the target: none lost, none duplicated.
    held = Counter(world.held_ids(world.target_id))
    assert held == Counter({world.url(h): 1 for h in hashes})


def _cli(deployment: Workers, store_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", store_url, *args], env=deployment.environment)
    return result.exit_code, result.output


def test_a_queued_move_of_30_badges_proves_each_at_the_target_once(
    world: World, store_url: str, secret_key: str, tmp_path: Path
) -> None:
    """move --queue prints a job id; a worker moves all 30, and jobs show lists each proof."""
    hashes = _badges(world, 30)
    with workers(store_url, secret_key, tmp_path) as deployment:
        # One move is one task: a visibility timeout above its length hands it to nobody else.
        deployment.start(1, env={"OPENBACKPACK_VISIBILITY_TIMEOUT": "60"})
        code, output = _cli(deployment, store_url, "move", "--user", OWNER, "--from",
                            str(world.source_id), "--to", str(world.target_id), "--queue",
                            deployment.prefix)  # fmt: skip
        assert code == 0, output
        job_id = output.strip()
        assert wait_until(world.store, job_id, 90).state == "done", deployment.log_tail()
        code, shown = _cli(deployment, store_url, "jobs", "show", job_id, "--wait", "--json")
        _, text = _cli(deployment, store_url, "jobs", "show", job_id)
        _, listed = _cli(deployment, store_url, "jobs", "list", "--json")
    _each_once_and_proved(world, job_id, hashes)
    assert code == 0, shown
    data = json.loads(shown)
    assert (data["kind"], data["done"], data["total"]) == ("move", 30, 30)
    assert data["report"]["counts"]["move"] == 30
    assert {b["proof"] for b in data["badges"]} == {"proved"}
    assert f"job {job_id}: done, 30 of 30 done, 0 failed" in text
    assert "every badge meant for the target is proved there" in text
    assert [(j["id"], j["kind"], j["state"]) for j in json.loads(listed)] == [
        (job_id, "move", "done")
    ]


def test_a_worker_killed_mid_move_is_taken_over_with_nothing_lost_or_twice(
    world: World, store_url: str, secret_key: str, tmp_path: Path
) -> None:
    """SIGKILL the worker mid-move, start another: the job completes, 0 duplicates, 0 lost."""
    hashes = _badges(world, 30)
    with world.store.transaction() as tx:
        tx.providers.set_rate_limit(world.target_id, 10, 1)  # the move takes some seconds
    # Redis gives a lost worker's task to another after the visibility timeout: keep it short.
    quick = {"OPENBACKPACK_VISIBILITY_TIMEOUT": "3"}
    with workers(store_url, secret_key, tmp_path) as deployment:
        deployment.start(1, concurrency=1, env=quick)
        job = _queue(deployment, world)
        deadline = time.monotonic() + 60
        while len(world.held_ids(world.target_id)) < 6:
            assert time.monotonic() < deadline, deployment.log_tail()
            time.sleep(0.1)
        deployment.kill(0)
        assert len(world.held_ids(world.target_id)) < 30  # killed in the middle
        deployment.start(1, concurrency=2, env=quick)
        finished = wait_until(world.store, job.id, 90)
        assert finished.state == "done", deployment.log_tail()
    _each_once_and_proved(world, job.id, hashes)


def test_a_cancelled_move_stops_after_the_badges_in_flight(
    world: World, store_url: str, secret_key: str, tmp_path: Path
) -> None:
    """Cancel mid-move: no badge starts afterwards; what the target holds is what was done."""
    _badges(world, 30)
    with world.store.transaction() as tx:
        tx.providers.set_rate_limit(world.target_id, 4, 1)
    with workers(store_url, secret_key, tmp_path) as deployment:
        deployment.start(1, env={"OPENBACKPACK_VISIBILITY_TIMEOUT": "60"})
        job = _queue(deployment, world, concurrency=2)
        wait_until(world.store, job.id, 60, at_least=3)
        code, output = _cli(deployment, store_url, "jobs", "cancel", job.id)
        assert code == 0, output
        time.sleep(2)  # the two badges in flight end within a second at 4/s
        with world.store.transaction() as tx:
            settled = tx.jobs.get(job.id)
        time.sleep(1.5)
        with world.store.transaction() as tx:
            later = tx.jobs.get(job.id)
            items = tx.jobs.items(job.id)
    assert f"job {job.id}: cancelled" in output
    assert later.state == "cancelled"
    assert later.done == settled.done < 30
    assert later.total == 30
    assert sum(1 for i in items if i.status == "pending") == 30 - later.done
    assert later.report is None  # nothing was proved, nothing deleted
    assert len(world.held_ids(world.target_id)) == later.done


def test_move_queue_with_the_broker_down_is_one_error_and_writes_no_job(
    world: World, store_url: str, secret_key: str
) -> None:
    """move --queue with no broker listening: one error line, exit 1, no job row."""
    result = runner.invoke(
        app,
        ["--db", store_url, "move", "--user", OWNER, "--from", str(world.source_id), "--to",
         str(world.target_id), "--queue", "q"],
        env={"OPENBACKPACK_BROKER": "redis://127.0.0.1:1/0", "OPENBACKPACK_SECRET_KEY": secret_key},
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output.startswith("error: the broker at redis://127.0.0.1:1/0 is not reachable")
    assert result.output.count("\n") == 1
    with world.store.transaction() as tx:
        assert tx.jobs.recent() == []


def test_move_queue_refuses_files_a_dry_run_and_an_unknown_source(
    world: World, store_url: str, secret_key: str, tmp_path: Path
) -> None:
    """Files, --dry-run and an unknown source are refused with one line each, and no job."""
    (tmp_path / "badge.json").write_text(json.dumps(world.document(world.award())))
    env = {"OPENBACKPACK_BROKER": "redis://127.0.0.1:6379/0", "OPENBACKPACK_SECRET_KEY": secret_key}
    base = ["--db", store_url, "move", "--user", OWNER, "--to", str(world.target_id)]
    for args, expected in (
        (["--from", str(tmp_path)], f"error: --from '{tmp_path}' is a file or folder, which the "
         "workers cannot read: move badges in files without --queue"),
        (["--from", str(world.source_id), "--dry-run"], "error: --dry-run prints the plan here"),
        (["--from", "/no/such/place"], "error: --from '/no/such/place' is not a backpack of"),
    ):  # fmt: skip
        result = runner.invoke(app, [*base, *args, "--queue", "q"], env=env)
        assert result.exit_code == 1, result.output
        assert result.output.startswith(expected), result.output
        assert "Traceback" not in result.output
    with world.store.transaction() as tx:
        assert tx.jobs.recent() == []


def _clients(client: BackpackClient) -> MoveClients:
    return lambda _rate: nullcontext((client, client))


def _job(world: World) -> str:
    # The move as enqueue_move records it, without a broker: the task is run here.
    with world.store.transaction() as tx:
        job = tx.jobs.create_move(
            "m" + str(time.monotonic_ns())[-20:], owner=OWNER,
            source_provider_id=world.source_id, target_provider_id=world.target_id,
            options={"concurrency": 3},
        )  # fmt: skip
    return job.id


def test_a_move_whose_target_answers_429_is_retried_after_its_retry_after(
    world: World, hosts: tuple[RunningHost, RunningHost]
) -> None:
    """The target answers 429: the run asks to be retried in Retry-After s; the retry ends it."""
    hashes = _badges(world, 3)
    job_id = _job(world)
    hosts[1].faults.fail_next(100, 429)
    try:
        outcome = run_move(world.store, job_id, _clients(world.client), final=False)
    finally:
        hosts[1].faults.fail_next(0)
    assert outcome.retry_in == RETRY_AFTER
    with world.store.transaction() as tx:
        job = tx.jobs.get(job_id)
    assert (job.state, job.total, job.done) == ("running", 3, 0)
    retried = run_move(world.store, job_id, _clients(world.client), attempt=1, final=False)
    assert (retried.done, retried.retry_in) == (3, None)
    _each_once_and_proved(world, job_id, hashes)
    # A finished job is not run again.
    assert run_move(world.store, job_id, _clients(world.client)).stopped
