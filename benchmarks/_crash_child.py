"""The pushing process that push_crash kills: it pushes the awards listed in a file.

``python -m benchmarks._crash_child STORE_URL ISSUER_BASE HASHES_FILE RATE CONCURRENCY
[--standby]`` opens the store (its key file lies beside it), prints ``pushing`` once its
first award is done, pushes every listed award to the store's primary backpack and prints
the report's counts as one JSON object. With ``--standby`` it first prints ``ready`` once
its imports are done and waits for a line on stdin before it opens the store (a process
started ahead, as a supervisor keeps a warm spare). Killed at any moment, it leaves what
the store and the host hold; the next process resumes from there.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from openbackpack._tls import verifying_context
from openbackpack.client import BackpackClient, RateLimiter
from openbackpack.services import push_awards
from openbackpack.store import Store

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Push the listed awards; print ``pushing``, then the counts."""
    args = list(argv if argv is not None else sys.argv[1:])
    if "--standby" in args:
        args.remove("--standby")
        # Warm: the TLS context (and the HTTP stack it imports) is made once per process.
        verifying_context()
        print("ready", flush=True)
        sys.stdin.readline()
    url, base, listing, rate, concurrency = args
    hashes = Path(listing).read_text(encoding="ascii").split()
    with (
        Store.open(url) as store,
        BackpackClient(rate_limit=RateLimiter(float(rate))) as client,
    ):
        first = threading.Event()

        def done(_: object) -> None:
            # Once the first award is done, the process is pushing: a kill from now on
            # lands among creates, not in reading the awards.
            if not first.is_set():
                first.set()
                print("pushing", flush=True)

        report = push_awards(
            store,
            None,
            hashes,
            issuer_base_url=base,
            client=client,
            concurrency=int(concurrency),
            on_done=done,
        )
        if not first.is_set():
            print("pushing", flush=True)
    counts = {
        "created": report.created,
        "adopted": report.adopted,
        "updated": report.updated,
        "skipped": report.skipped,
        "failed": report.failed,
        "errors": sorted({str(failure.error) for failure in report.failures})[:3],
    }
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
