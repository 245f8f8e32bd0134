"""The jobs table keeps a move: badges known once read, counted once, settled by the proof."""

from __future__ import annotations

import threading

from alembic import command

from openbackpack.store import Store
from openbackpack.store._jobs import badge_key
from openbackpack.store._store import _alembic_config


def _move(store: Store, job_id: str = "move-1") -> str:
    with store.transaction() as tx:
        source = tx.providers.create("https://a.example.org/v2", "https://a.example.org", "2")
        target = tx.providers.create("https://b.example.org/v2", "https://b.example.org", "2")
        job = tx.jobs.create_move(
            job_id, owner="learner-1", source_provider_id=source.id,
            target_provider_id=target.id, options={"resend": 1, "emails": ["x@example.org"]},
        )  # fmt: skip
    assert (job.kind, job.total, job.state, job.provider_id) == ("move", 0, "queued", target.id)
    assert job.options == {"resend": 1, "emails": ["x@example.org"]}
    return job.id


def test_a_move_read_and_marked_twice_counts_each_badge_once(store: Store) -> None:
    """Two runs read and mark the same badges: total and done count each badge once."""
    job_id = _move(store)
    badges = [("https://i.example.org/a", "badge a"), ("https://i.example.org/b", "badge b")]
    for _ in range(2):
        with store.transaction() as tx:
            read = tx.jobs.read_badges(job_id, badges)
            marked = tx.jobs.mark_badges(
                job_id, [("https://i.example.org/a", "done", "moved", {"proof": "not checked"})]
            )
    assert (read.total, marked.total, marked.done, marked.failed) == (2, 2, 1, 0)
    assert marked.state == "queued"  # marks never finish a move: the proof does
    with store.transaction() as tx:
        items = tx.jobs.items(job_id)
    assert [(i.award_hash, i.status) for i in items] == [
        (badge_key("https://i.example.org/a"), "done"),
        (badge_key("https://i.example.org/b"), "pending"),
    ]
    assert items[1].detail == {"source": "badge b", "key": "https://i.example.org/b"}


def test_the_proof_settles_every_badge_and_finishes_the_move(store: Store) -> None:
    """A badge marked done that the proof finds missing is failed; one gone since is done."""
    job_id = _move(store)
    keys = ["https://i.example.org/a", "https://i.example.org/b", "https://i.example.org/c"]
    with store.transaction() as tx:
        tx.jobs.read_badges(job_id, [(key, key) for key in keys])
        tx.jobs.mark_badges(job_id, [(keys[0], "done", "moved", {})])
        job = tx.jobs.settle_move(
            job_id,
            [(keys[0], "failed", "moved; missing", {"proof": "missing"}),
             (keys[1], "done", "moved; proved", {"proof": "proved"})],
            {"complete": False, "counts": {"move": 2}, "notes": []},
            gone="no longer at the source",
        )  # fmt: skip
        items = {i.award_hash: i for i in tx.jobs.items(job_id)}
    assert (job.state, job.total, job.done, job.failed) == ("failed", 3, 2, 1)
    assert job.report == {"complete": False, "counts": {"move": 2}, "notes": []}
    assert items[badge_key(keys[2])].result == "no longer at the source"
    assert items[badge_key(keys[0])].detail == {"proof": "missing"}
    with store.transaction() as tx:
        # A second run still under way does not write over what the proof settled.
        later = tx.jobs.mark_badges(job_id, [(keys[0], "done", "moved", {})])
        kept = {i.award_hash: i for i in tx.jobs.items(job_id)}[badge_key(keys[0])]
    assert (later.done, later.failed, kept.status) == (2, 1, "failed")


def test_a_mark_racing_the_settle_waits_for_it_and_writes_nothing(store: Store) -> None:
    """A mark racing the proof's settle (two open transactions) waits, then keeps the settle."""
    job_id = _move(store)
    key = "https://i.example.org/a"
    with store.transaction() as tx:
        tx.jobs.read_badges(job_id, [(key, key)])
    settled, release = threading.Event(), threading.Event()

    def settle() -> None:
        with store.transaction() as tx:
            tx.jobs.settle_move(
                job_id, [(key, "done", "moved; proved", {"proof": "proved"})],
                {"complete": True, "counts": {"move": 1}, "notes": []}, gone="gone",
            )  # fmt: skip
            settled.set()
            release.wait(10)  # the settle's transaction stays open meanwhile

    first = threading.Thread(target=settle)
    first.start()
    assert settled.wait(10)
    marked: list[str] = []

    def mark() -> None:
        with store.transaction() as tx:
            marked.append(
                tx.jobs.mark_badges(
                    job_id, [(key, "done", "moved", {"proof": "not checked"})]
                ).state
            )

    second = threading.Thread(target=mark)
    second.start()
    second.join(0.5)
    assert second.is_alive()  # it waits for the settle's transaction
    release.set()
    first.join(10)
    second.join(10)
    assert marked == ["done"]
    with store.transaction() as tx:
        [item] = tx.jobs.items(job_id)
    assert (item.status, item.detail) == ("done", {"proof": "proved"})


def test_moves_migrate_down_and_up_leaving_the_pushes(store: Store) -> None:
    """Down to 0014 removes the move jobs (a push job cannot hold one) and keeps pushes."""
    _move(store)
    with store.transaction() as tx:
        tx.jobs.create("push-1", owner=None, provider_id=None, issuer_base_url="https://e.org",
                       refresh=False, chunks=[["award"]])  # fmt: skip
    with store.engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0014")
    with store.engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")
    with store.transaction() as tx:
        assert [(j.id, j.kind) for j in tx.jobs.recent()] == [("push-1", "push")]
