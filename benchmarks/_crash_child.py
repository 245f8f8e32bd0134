"""The pushing process that push_crash kills: it pushes the awards listed in a file.

``python -m benchmarks._crash_child STORE_URL ISSUER_BASE HASHES_FILE RATE CONCURRENCY
[--standby]`` opens the store (its key file lies beside it), prints ``pushing`` once its
first award is done, pushes every listed award to the store's primary backpack and prints
the report's counts as one JSON object. With ``--standby`` it first prints ``ready`` once
its imports are done and waits for a line on stdin before it opens the store (a process
started ahead, as a supervisor keeps a warm spare). :func:`forked` does the same in a
process forked from a parent that imported this module (a prefork pool's new child), and
answers through a pipe. Killed at any moment, it leaves what the store and the host hold;
the next process resumes from there.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from openbackpack._tls import verifying_context
from openbackpack.client import BackpackClient, RateLimiter
from openbackpack.services import push_awards
from openbackpack.store import Store

__all__ = ["forked", "main", "push_listed"]


def push_listed(args: Sequence[str], say: Callable[[str], None]) -> dict[str, Any]:
    """Push the awards listed in ``args``'s file; ``say("pushing")`` once, after the first.

    ``args`` are STORE_URL ISSUER_BASE HASHES_FILE RATE CONCURRENCY. Returns the counts.
    """
    url, base, listing, rate, concurrency = args
    hashes = Path(listing).read_text(encoding="ascii").split()
    first = threading.Lock()
    said = False

    def done(_: object) -> None:
        # Once the first award is done, the process is pushing: a kill from now on lands
        # among creates, not in reading the awards. Workers finish at once: say it once.
        nonlocal said
        with first:
            if not said:
                said = True
                say("pushing")

    with (
        Store.open(url) as store,
        BackpackClient(rate_limit=RateLimiter(float(rate))) as client,
    ):
        report = push_awards(
            store,
            None,
            hashes,
            issuer_base_url=base,
            client=client,
            concurrency=int(concurrency),
            on_done=done,
        )
    done(None)
    return {
        "created": report.created,
        "adopted": report.adopted,
        "updated": report.updated,
        "skipped": report.skipped,
        "failed": report.failed,
        "errors": sorted({str(failure.error) for failure in report.failures})[:3],
    }


def forked(answers: Connection, args: Sequence[str]) -> None:
    """Push as :func:`push_listed` does, in a forked child; ``pushing``, then the counts."""
    counts = push_listed(args, answers.send)
    answers.send(counts)
    answers.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Push the listed awards; print ``pushing``, then the counts."""
    args = list(argv if argv is not None else sys.argv[1:])
    if "--standby" in args:
        args.remove("--standby")
        # Warm: the TLS context (and the HTTP stack it imports) is made once per process.
        verifying_context()
        print("ready", flush=True)
        sys.stdin.readline()
    counts = push_listed(args, lambda word: print(word, flush=True))
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
