"""The process whose memory paged_memory measures: it reads an award list, and nothing else.

``python -m benchmarks._stream_child MODE API_URL TOKEN BADGECLASS`` prints one JSON object:
how many awards it read, in how long, the peak RSS of this process and its RSS before
reading (after the imports). MODE ``stream`` follows the pages with
``BackpackClient.iter_items``; MODE ``whole`` asks for the whole list in one answer (no
``num``), as a client without pagination does. A fresh process per mode, so that neither
measurement inherits the other's (or the benchmark runner's) memory.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Sequence
from typing import Final

from openbackpack.client import BackpackClient
from openbackpack.protocols import badgr

__all__ = ["main"]

# Rendering a hundred thousand awards in one answer takes the host a while.
_TIMEOUT: Final = 300.0
_AWARDS: Final = badgr.route("badgeclass.assertions.list")


def _peak_rss_mb() -> float:
    """This process's peak resident memory, in MiB.

    ``VmHWM`` (Linux) belongs to the address space, which ``exec`` replaced. ``ru_maxrss``
    is kept across ``fork`` and ``exec``, so in a child it starts at the parent's peak.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _stream(client: BackpackClient, api_url: str, token: str, badgeclass: str) -> int:
    items = client.iter_items(_AWARDS, api_url, params={"badgeclass": badgeclass}, token=token)
    return sum(1 for _ in items)


def _whole(client: BackpackClient, api_url: str, token: str, badgeclass: str) -> int:
    answer = client.fetch(_AWARDS, api_url, params={"badgeclass": badgeclass}, token=token)
    return len(answer.json()["result"])


def main(argv: Sequence[str]) -> int:
    """Read the list as MODE says and print the measurement."""
    mode, api_url, token, badgeclass = argv
    read = {"stream": _stream, "whole": _whole}[mode]
    before = _peak_rss_mb()
    started = time.perf_counter()
    with BackpackClient(timeout=_TIMEOUT) as client:
        count = read(client, api_url, token, badgeclass)
    seconds = time.perf_counter() - started
    report = {"items": count, "seconds": seconds, "peak_rss_mb": _peak_rss_mb()}
    print(json.dumps({**report, "rss_before_mb": before}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
