"""``openbackpack move``: move a learner's badges between backpacks, and prove it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from openbackpack._exceptions import InvalidInputError
from openbackpack.cli._context import context_of, open_store
from openbackpack.cli._output import err, out, print_json, print_table
from openbackpack.client import BackpackClient, RateLimiter
from openbackpack.issuer import IssuerUrls
from openbackpack.services.move import DEFAULT_RESEND, Action, MoveItem, MoveReport, Source
from openbackpack.store import Store

__all__ = ["move_command"]


def _provider_id(store: Store, owner: str, text: str) -> int | None:
    """The provider a BACKPACK names: its id, or its API or web URL; None if none."""
    if text.isdigit():
        return int(text)
    wanted = text.rstrip("/")
    with store.transaction() as tx:
        accounts = tx.accounts.list(owner=owner)
        for account in accounts:
            provider = tx.providers.get(account.provider_id)
            if wanted in (provider.api_url.rstrip("/"), provider.web_url.rstrip("/")):
                return provider.id
    return None


def _client(rate: float | None) -> BackpackClient:
    return BackpackClient(rate_limit=RateLimiter(rate) if rate else None)


def _done(item: MoveItem) -> str:
    text = item.error or item.done
    if item.resent_present is not None:
        # Sent again after the proof found it missing: say how often and what came of it.
        outcome = "now present" if item.resent_present else "still missing"
        text += f"; sent {item.sends} times, {outcome}"
    return text


def _row(item: MoveItem) -> list[object]:
    shows = item.target_shows.remote_id if item.target_shows is not None else ""
    return [
        item.source.where,
        item.verdict.value,
        item.action.value,
        item.how or item.why,
        _done(item),
        f"{item.proof.value}: {item.proof_reason}" if item.proof_reason else item.proof.value,
        shows,
    ]


def _print(report: MoveReport) -> None:
    title = f"{'plan' if report.dry_run else 'move'}: {report.source} -> {report.target}"
    columns = ["source", "verdict", "action", "how / why", "done", "proof", "target shows"]
    print_table(title, columns, [_row(item) for item in report.items])
    counts = ", ".join(f"{action.value}: {report.count(action)}" for action in Action)
    out.print(counts if report.items else "no badges at the source", markup=False)
    for note in report.notes:
        out.print(note, markup=False)


def move_command(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", help="The user (your platform's user id).")],
    source: Annotated[
        str,
        typer.Option(
            "--from",
            metavar="BACKPACK",
            help="The user's backpack (site backpack id, or its API or web URL), or a badge "
            "file or a folder of them.",
        ),
    ],
    target: Annotated[
        str,
        typer.Option(
            "--to", metavar="BACKPACK", help="The user's backpack to move the badges into."
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only verify and print the plan.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    delete_source: Annotated[
        bool,
        typer.Option(
            "--delete-source", help="Delete each badge at the source once it is proved moved."
        ),
    ] = False,
    email: Annotated[
        list[str] | None,
        typer.Option("--email", help="Another verified email of the learner (repeatable)."),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option("--rate", min=0.1, help="Requests per second to send to each backpack."),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Badges handled at once.")
    ] = 8,
    resend: Annotated[
        int,
        typer.Option(
            "--resend",
            min=0,
            help="Times to send again a badge the target answered for but does not show "
            "(0: never).",
        ),
    ] = DEFAULT_RESEND,
    reissue_base_url: Annotated[
        str | None,
        typer.Option(
            "--reissue-base-url",
            metavar="URL",
            help="This site's hosted documents' base URL (as reissue --base-url): its own 2.0 "
            "awards go into an Open Badges 3.0 backpack re-issued as signed 3.0 credentials.",
        ),
    ] = None,
    queue: Annotated[
        str | None,
        typer.Option(
            "--queue",
            help="Queue the move as a job on this queue for the workers (needs "
            "OPENBACKPACK_BROKER) and print the job's id, instead of moving here.",
        ),
    ] = None,
) -> None:
    """Move a learner's badges to another backpack: verify, plan, move once each, prove.

    Exits 0 when every badge meant for the target is proved there, 1 otherwise. With
    --queue, a worker does it (follow it with: openbackpack jobs show ID --wait).
    """
    if queue is not None:
        _enqueue(
            ctx, user, source, target, queue=queue, dry_run=dry_run,
            delete_source=delete_source, emails=email or [], rate=rate,
            concurrency=concurrency, resend=resend, reissue_base_url=reissue_base_url,
        )  # fmt: skip
        return
    reissue = IssuerUrls(reissue_base_url) if reissue_base_url else None
    # Verifying and sending load the credential stack; other commands do not need it.
    from openbackpack.services.move import (
        FileSource,
        client_fetch,
        connected_backpack,
        move_badges,
    )

    with (
        open_store(ctx) as store,
        _client(rate) as source_client,
        _client(rate) as target_client,
    ):
        to_id = _provider_id(store, user, target)
        if to_id is None:
            raise InvalidInputError(f"--to {target!r} is not a backpack of user {user!r}")
        to = connected_backpack(store, user, to_id, target_client)
        from_id = _provider_id(store, user, source)
        origin: Source
        if from_id is not None:
            origin = connected_backpack(store, user, from_id, source_client)
        elif Path(source).exists():
            origin = FileSource(Path(source), email or ())
        else:
            raise InvalidInputError(
                f"--from {source!r} is neither a backpack of user {user!r} nor a file or folder"
            )
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            disable=as_json,
            transient=True,
        ) as progress:
            task = progress.add_task("verifying" if dry_run else "moving", total=None)
            report = move_badges(
                store,
                user,
                origin,
                to,
                dry_run=dry_run,
                delete_source=delete_source,
                emails=email or (),
                fetch=client_fetch(source_client),
                concurrency=concurrency,
                resend=resend,
                reissue=reissue,
                on_progress=lambda _item: progress.advance(task),
            )
    if as_json:
        print_json(report.to_json())
    else:
        _print(report)
    if not report.complete:
        err.print(
            f"error: {len(report.failed)} badge(s) meant for the target are not proved there",
            markup=False,
        )
        raise typer.Exit(1)


def _enqueue(
    ctx: typer.Context,
    user: str,
    source: str,
    target: str,
    *,
    queue: str,
    dry_run: bool,
    delete_source: bool,
    emails: list[str],
    rate: float | None,
    concurrency: int,
    resend: int,
    reissue_base_url: str | None,
) -> None:
    """Queue the move as a job and print its id (``move --queue``)."""
    if dry_run:
        raise InvalidInputError("--dry-run prints the plan here: leave out --queue")
    from openbackpack.jobs import JobSettings, create_celery_app, enqueue_move

    settings = JobSettings.from_environment(db_urls=(context_of(ctx).db_url,))
    app = create_celery_app(settings)
    with open_store(ctx) as store:
        to_id = _provider_id(store, user, target)
        if to_id is None:
            raise InvalidInputError(f"--to {target!r} is not a backpack of user {user!r}")
        from_id = _provider_id(store, user, source)
        if from_id is None and Path(source).exists():
            raise InvalidInputError(
                f"--from {source!r} is a file or folder, which the workers cannot read: "
                "move badges in files without --queue"
            )
        if from_id is None:
            raise InvalidInputError(f"--from {source!r} is not a backpack of user {user!r}")
        job = enqueue_move(
            app, settings, store, user, from_id, to_id, delete_source=delete_source,
            emails=emails, rate=rate, concurrency=concurrency, resend=resend,
            reissue_base_url=reissue_base_url, queue=queue,
        )  # fmt: skip
    out.print(job.id, markup=False)
