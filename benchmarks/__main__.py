"""``python -m benchmarks [NAME...]``: run benchmarks by hand, one JSON line each on stdout.

Benchmarks are imported only when chosen, so the child processes they start (which import
this module again under ``spawn``) stay small.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Final

from benchmarks._report import Result

BENCHMARKS: Final = {
    "bulk_push": "benchmarks.bulk_push",
    "expanded_read": "benchmarks.expanded_read",
    "client_overhead": "benchmarks.client_overhead",
    "host_throughput": "benchmarks.host_throughput",
    "paged_memory": "benchmarks.paged_memory",
    "credentials": "benchmarks.credentials",
    "resume_cost": "benchmarks.resume_cost",
    "push_cpu": "benchmarks.push_cpu",
    "web_badges": "benchmarks.web_badges",
    "move": "benchmarks.move",
    "push_crash": "benchmarks.push_crash",
    "distributed_push": "benchmarks.distributed_push",
}


def _run(name: str) -> list[Result]:
    module = importlib.import_module(BENCHMARKS[name])
    results: list[Result] = module.run()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the named benchmarks (all of them by default) and print their results."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure openbackpack beside its baselines against the reference host.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    for name in args.names or list(BENCHMARKS):
        for result in _run(name):
            print(result.to_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
