"""paged_memory: the peak memory of reading 100,000 awards, streamed page by page.

A badge class with 100,000 awards (inserted straight into the host's database: seeding is
not what is measured) is read through Badgr's cursor pagination (``num=500``, the ``Link``
header's next page) with ``BackpackClient.iter_items``, one page in memory at a time. Badgr
pages only the issuer-side lists (badge classes and awards), not ``/v2/backpack/...``, so
these are an issuer's awards.

* openbackpack: ``iter_items`` in a fresh process that imports only the client.
* baseline: the same list asked for whole (no ``num``), one answer, decoded at once, as a
  client without pagination reads it; also in a fresh process.

The peak RSS of each process is compared; the target is openbackpack under 150 MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, Final

from benchmarks._processes import host_process
from benchmarks._report import Result, progress
from benchmarks._seed import (
    ISSUER_EMAIL,
    ISSUER_PASSWORD,
    add_host_users,
    create_issuer_and_badge,
    insert_awards,
    workdir,
)
from openbackpack.client import DEFAULT_PAGE_SIZE, BackpackClient

__all__ = ["run"]

NAME: Final = "paged_memory"
AWARDS: Final = 100_000
MAX_PEAK_MB: Final = 150.0
_CHILD_TIMEOUT: Final = 600.0


def _child(mode: str, api_url: str, token: str, badgeclass: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks._stream_child", mode, api_url, token, badgeclass]
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        command, capture_output=True, text=True, timeout=_CHILD_TIMEOUT, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{mode} reader failed: {done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    if report["items"] != AWARDS:
        raise RuntimeError(f"{mode} reader read {report['items']} awards, not {AWARDS}")
    return report


def run() -> list[Result]:
    """Seed, then measure the streaming reader and the whole-list reader; one result."""
    with workdir() as directory:
        db = f"sqlite:///{directory / 'host.sqlite3'}"
        add_host_users(db, (ISSUER_EMAIL, ISSUER_PASSWORD))
        with host_process(db, directory / "host.log") as host:
            with BackpackClient() as client:
                remote = create_issuer_and_badge(client, host.api_url)
            progress(f"{NAME}: inserting {AWARDS} awards into the host's database")
            insert_awards(db, remote.badgeclass_id, AWARDS)
            progress(f"{NAME}: streaming them with iter_items")
            ours = _child("stream", host.api_url, remote.token, remote.badgeclass_id)
            progress(f"{NAME}: baseline, the whole list in one answer")
            whole = _child("whole", host.api_url, remote.token, remote.badgeclass_id)
    return [_result(ours, whole)]


def _result(ours: dict[str, Any], whole: dict[str, Any]) -> Result:
    peak, baseline = float(ours["peak_rss_mb"]), float(whole["peak_rss_mb"])
    return Result(
        name=NAME,
        openbackpack=peak,
        baseline=baseline,
        unit="peak RSS MB",
        ratio=baseline / peak,
        target=f"openbackpack < {MAX_PEAK_MB:g} MB",
        met=peak < MAX_PEAK_MB,
        extra={
            "awards": AWARDS,
            "page_size": DEFAULT_PAGE_SIZE,
            "pages": -(-AWARDS // DEFAULT_PAGE_SIZE),
            "rss_after_imports_mb": ours["rss_before_mb"],
            "openbackpack_s": ours["seconds"],
            "baseline_s": whole["seconds"],
            "seeded_by": "direct inserts into the host database",
        },
    )
