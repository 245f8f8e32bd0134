"""``openbackpack worker`` and ``openbackpack jobs``: background pushes and moves on a queue.

Imported lazily by the commands that need it, so that the command line works (in-process)
on a machine with no broker configured.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from openbackpack.cli._context import context_of, open_store
from openbackpack.cli._output import out, print_json, print_table
from openbackpack.store import Job, JobItem, Store

__all__ = ["jobs_app", "worker_command"]

jobs_app = typer.Typer(help="Background jobs: list, show, cancel.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _summary(job: Job) -> dict[str, object]:
    return {
        "id": job.id, "kind": job.kind, "owner": job.owner, "state": job.state,
        "total": job.total, "done": job.done, "failed": job.failed, "error": job.error,
        "created_at": job.created_at, "finished_at": job.finished_at,
    }  # fmt: skip


def worker_command(
    ctx: typer.Context,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Worker processes.")
    ] = 2,
    queues: Annotated[
        str | None,
        typer.Option("--queues", help="Comma-separated queues to take tasks from."),
    ] = None,
    local: Annotated[
        bool,
        typer.Option(
            "--local",
            help="Every worker runs on this machine: allows an SQLite store.",
        ),
    ] = False,
    beat: Annotated[
        bool,
        typer.Option("--beat", help="Also run the schedule (run it in exactly one worker)."),
    ] = False,
    stores: Annotated[
        list[str] | None,
        typer.Option("--store", help="Serve this store too (repeat for several sites)."),
    ] = None,
) -> None:
    """Start a worker for queued pushes, moves and badge refreshes (needs OPENBACKPACK_BROKER).

    SQLite stores are refused unless --local says that every worker is on this machine.
    """
    from openbackpack.jobs import JobSettings, check_store_for_workers, create_celery_app
    from openbackpack.jobs._workers import run_worker

    urls = (context_of(ctx).db_url, *(stores or []))
    settings = JobSettings.from_environment(db_urls=urls)
    check_store_for_workers(urls, local=local)
    for url in urls:
        open_store_url(url)
    if settings.limit_url is None:
        out.print(
            "note: no Redis for the shared rate limit (set OPENBACKPACK_LIMIT_REDIS): "
            "the backpacks' limits are not applied",
            markup=False,
        )
    app = create_celery_app(settings)
    names = [q.strip() for q in (queues or "").split(",") if q.strip()]
    run_worker(app, settings, concurrency=concurrency, queues=names, beat=beat)


def open_store_url(url: str) -> None:
    """Open the store once, so that a wrong URL or key fails before the worker starts."""
    Store.open(url, migrate=False).close()


@jobs_app.command("list")
def list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the newest jobs."""
    with open_store(ctx) as store, store.transaction() as tx:
        jobs = tx.jobs.recent()
    if as_json:
        print_json([_summary(job) for job in jobs])
        return
    rows = [
        [j.id, j.kind, j.state, j.owner or "(site)", f"{j.done}/{j.total}", j.failed,
         f"{j.created_at:%Y-%m-%d %H:%M:%S}"]
        for j in jobs
    ]  # fmt: skip
    columns = ["id", "kind", "state", "owner", "done", "failed", "created (UTC)"]
    print_table("Jobs", columns, rows)


@jobs_app.command("show")
def show_command(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    wait: Annotated[
        bool, typer.Option("--wait", help="Show a progress bar until it ends.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show a job's state and counts; with --wait, follow it until it finishes.

    A move job also shows each badge's outcome and proof, and the move's summary.
    """
    with open_store(ctx) as store:
        with store.transaction() as tx:
            job = tx.jobs.get(job_id)
        if wait and not job.finished:
            job = _follow(store, job)
        with store.transaction() as tx:
            items = tx.jobs.items(job_id)
    failures = [i for i in items if i.status == "failed"]
    if as_json:
        shown = {**_summary(job), "failures": {i.award_hash: i.result for i in failures}}
        if job.kind == "move":
            shown.update(_move_json(job, items))
        print_json(shown)
    else:
        out.print(
            f"job {job.id}: {job.state}, {job.done} of {job.total} done, {job.failed} failed",
            markup=False,
        )
        if job.error:
            out.print(f"  {job.error}", markup=False)
        if job.kind == "move":
            _print_move(job, items)
        else:
            for item in failures:
                out.print(f"  failed {item.award_hash}: {item.result}", markup=False)
    if job.state == "failed":
        raise typer.Exit(1)


def _move_json(job: Job, items: list[JobItem]) -> dict[str, object]:
    return {
        "source_backpack": job.source_provider_id,
        "target_backpack": job.provider_id,
        "report": job.report,
        "badges": [
            {**(item.detail or {}), "status": item.status, "result": item.result} for item in items
        ],
    }


def _print_move(job: Job, items: list[JobItem]) -> None:
    """Each badge's outcome, then the proof's summary (once the move has ended)."""
    rows = [
        [(item.detail or {}).get("source", item.award_hash), item.status, item.result or ""]
        for item in items
    ]
    if rows:
        print_table(f"move: backpack {job.source_provider_id} -> {job.provider_id}",
                    ["source", "status", "outcome"], rows)  # fmt: skip
    report = job.report
    if report is None:
        return
    counts = report.get("counts", {})
    out.print(", ".join(f"{name}: {count}" for name, count in counts.items()), markup=False)
    for note in report.get("notes", []):
        out.print(note, markup=False)
    if report.get("complete"):
        out.print("every badge meant for the target is proved there", markup=False)
    else:
        out.print(f"{job.failed} badge(s) meant for the target are not proved there", markup=False)


def _follow(store: Store, job: Job) -> Job:
    from openbackpack.jobs import wait_for_job

    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )  # fmt: skip
    with Progress(*columns, transient=True) as progress:
        # A move's total is known once a worker has read its source: until then, no bar.
        task = progress.add_task(f"job {job.id[:8]}", total=job.total or None)

        def show(current: Job) -> None:
            progress.update(
                task, completed=current.done + current.failed, total=current.total or None,
                description=f"job {current.id[:8]} {current.state}",
            )  # fmt: skip

        return wait_for_job(store, job.id, on_progress=show)


@jobs_app.command("cancel")
def cancel_command(
    ctx: typer.Context, job_id: Annotated[str, typer.Argument(help="The job's id.")]
) -> None:
    """Cancel a job: no award (or badge) is started after this; those in flight still finish."""
    from openbackpack.jobs import cancel_job

    with open_store(ctx) as store:
        job = cancel_job(store, job_id)
    out.print(f"job {job.id}: {job.state}, {job.done} of {job.total} done", markup=False)


def enqueue_command_push(
    ctx: typer.Context,
    award_hashes: list[str],
    *,
    queue: str,
    user: str | None,
    backpack: int | None,
    base_url: str,
    refresh: bool,
) -> None:
    """Queue the push as a job and print its id (``push --queue``)."""
    from openbackpack.jobs import JobSettings, create_celery_app, enqueue_push

    url = context_of(ctx).db_url
    settings = JobSettings.from_environment(db_urls=(url,))
    app = create_celery_app(settings)
    with open_store(ctx) as store:
        job = enqueue_push(
            app, settings, store, user, award_hashes, issuer_base_url=base_url,
            provider_id=backpack, refresh=refresh, queue=queue,
        )  # fmt: skip
    out.print(job.id, markup=False)
