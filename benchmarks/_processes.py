"""The other processes a benchmark needs: the reference host and the latency proxy.

Each runs in its own process so that the client's CPU time and memory, measured with
``time.process_time`` and ``resource.getrusage`` in the benchmark's process, are the
client's alone, and so that the three do not take turns on one interpreter lock.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from benchmarks._proxy import latency_proxy

__all__ = ["HostProcess", "host_process", "process_cpu_seconds", "proxy_process"]

_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 15.0
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # The command name may hold spaces: the fields we want follow its closing bracket.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class HostProcess:
    """A reference host serving in a child process (``openbackpack host serve``)."""

    base_url: str
    pid: int

    @property
    def api_url(self) -> str:
        """The Badgr v2 API URL."""
        return self.base_url + "/v2"

    def cpu_seconds(self) -> float:
        """CPU seconds the host process has used so far."""
        return process_cpu_seconds(self.pid)


@contextlib.contextmanager
def host_process(db_url: str, log: Path, *options: str) -> Iterator[HostProcess]:
    """Run ``openbackpack host serve`` on a free loopback port until the block ends.

    ``options`` are further ``serve`` options (``--rate-limit 200``...); the login throttle
    is off and no issuer documents are served. The host's stderr goes to ``log``.
    """
    command = [
        sys.executable, "-m", "openbackpack", "host", "serve", "--no-issuer",
        "--host", "127.0.0.1", "--port", "0", "--db", db_url, "--login-backoff-max", "0",
        *options,
    ]  # fmt: skip
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "w", encoding="utf-8") as errors:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
            command, stdout=subprocess.PIPE, stderr=errors, text=True, env=environment
        )
        try:
            yield HostProcess(_wait_for_url(process, log), process.pid)
        finally:
            _stop(process)


def _wait_for_url(process: subprocess.Popen[str], log: Path) -> str:
    assert process.stdout is not None
    # The host prints its URL first; a host that fails to start prints nothing and exits.
    line = process.stdout.readline()
    found = _LISTENING.search(line)
    if found is None:
        process.kill()
        raise RuntimeError(f"the host did not start: {line!r} {log.read_text()[-2000:]}")
    return found.group(1)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(_STOP_TIMEOUT)
    if process.stdout is not None:
        process.stdout.close()


def _serve_proxy(target_url: str, round_trip: float, control: Connection) -> None:
    with latency_proxy(target_url, round_trip) as url:
        control.send(url)
        # Serve until the parent says stop, or goes away (EOF).
        with contextlib.suppress(EOFError):
            control.recv()


@contextlib.contextmanager
def proxy_process(target_url: str, round_trip: float) -> Iterator[str]:
    """Run the latency proxy in a child process; yield ``target_url`` rewritten through it."""
    # spawn, not fork: the benchmark process may already run threads.
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(
        target=_serve_proxy, args=(target_url, round_trip, child), name="latency-proxy"
    )
    process.start()
    try:
        if not parent.poll(_START_TIMEOUT):
            raise RuntimeError("the latency proxy did not start")
        url: str = parent.recv()
        yield url
    finally:
        with contextlib.suppress(OSError):
            parent.send("stop")
        process.join(_STOP_TIMEOUT)
        if process.is_alive():
            process.kill()
            process.join(_STOP_TIMEOUT)
