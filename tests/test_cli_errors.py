"""Failures of the environment end in one ``error:`` line and exit code 1, never a traceback."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest

from openbackpack.host import HostSettings, RunningHost, run_host_in_thread
from openbackpack.services import add_backpack
from openbackpack.store import SecretBox, Store


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openbackpack", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def _one_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert [line for line in result.stderr.splitlines() if line.strip()][-1] == errors[0]
    return errors[0]


_NOT_A_DATABASE = "this is not a database\n"


def _cases(directory: Path, taken_port: int) -> dict[str, tuple[tuple[str, ...], dict[str, str]]]:
    host_db = f"sqlite:///{directory / 'host.sqlite3'}"
    junk = directory / "notes.sqlite3"
    junk.write_text(_NOT_A_DATABASE)
    blocker = directory / "a-file"
    blocker.write_text("")
    unwritable = f"sqlite:///{blocker / 'store.sqlite3'}"
    serve = ("host", "serve", "--no-issuer", "--db", host_db)
    port = str(taken_port)
    return {
        "host-port-in-use": ((*serve, "--port", port), {}),
        "issuer-port-in-use": (
            ("--db", f"sqlite:///{directory / 's.sqlite3'}", "issuer", "serve", "--port", port),
            {},
        ),
        "port-out-of-range": ((*serve, "--port", "99999"), {}),
        "unknown-host": ((*serve, "--host", "no.such.invalid"), {}),
        "store-not-a-database": (("--db", f"sqlite:///{junk}", "backpacks", "list"), {}),
        "host-not-a-database": (("host", "serve", "--no-issuer", "--db", f"sqlite:///{junk}"), {}),
        "unwritable-key-file": (("--db", unwritable, "db", "upgrade"), {}),
        "unwritable-store": (
            ("--db", unwritable, "db", "upgrade"),
            {"OPENBACKPACK_SECRET_KEY": SecretBox.generate_key()},
        ),
    }


@pytest.fixture(scope="module")
def results(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, subprocess.CompletedProcess[str]]]:
    """Every case run as its own process, all at once (each start costs a second or so)."""
    directory = tmp_path_factory.mktemp("cli-errors")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        cases = _cases(directory, port)
        env = {"OPENBACKPACK_SECRET_KEY": ""}
        with ThreadPoolExecutor(max_workers=len(cases)) as pool:
            futures = {
                name: pool.submit(_run, *args, env={**env, **extra})
                for name, (args, extra) in cases.items()
            }
            done = {name: future.result() for name, future in futures.items()}
        done["_port"] = subprocess.CompletedProcess([], 0, str(port), "")
        done["_dir"] = subprocess.CompletedProcess([], 0, str(directory), "")
        yield done


def test_host_serve_on_a_port_in_use(results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    """host serve on a taken port says the port is in use."""
    port = results["_port"].stdout
    line = _one_error(results["host-port-in-use"])
    assert line == f"error: cannot listen on 127.0.0.1:{port}: the port is already in use"


def test_issuer_serve_on_a_port_in_use(
    results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    """issuer serve on a taken port says the port is in use."""
    assert "the port is already in use" in _one_error(results["issuer-port-in-use"])


def test_a_port_out_of_range(results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    """--port 99999 says the port must be between 0 and 65535."""
    line = _one_error(results["port-out-of-range"])
    assert line.endswith("the port must be between 0 and 65535")


def test_an_unresolvable_host(results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    """An unknown --host says the host is unknown."""
    line = _one_error(results["unknown-host"])
    assert line.startswith("error: cannot listen on no.such.invalid:0: unknown host")


@pytest.mark.parametrize("case", ["store-not-a-database", "host-not-a-database"])
def test_a_database_that_is_not_one(
    results: dict[str, subprocess.CompletedProcess[str]], case: str
) -> None:
    """--db naming a file that is not SQLite says so, and leaves the file as it was."""
    assert _one_error(results[case]).endswith("file is not a database")
    junk = Path(results["_dir"].stdout) / "notes.sqlite3"
    assert junk.read_text() == _NOT_A_DATABASE


@pytest.mark.parametrize("case", ["unwritable-key-file", "unwritable-store"])
def test_an_unwritable_store_path(
    results: dict[str, subprocess.CompletedProcess[str]], case: str
) -> None:
    """A store path whose directory cannot be made names the file it could not create."""
    line = _one_error(results[case])
    assert line.startswith("error: cannot ")
    assert str(Path(results["_dir"].stdout) / "a-file") in line


@pytest.fixture
def throttled_host(tmp_path: Path) -> Iterator[RunningHost]:
    """A host whose failed-login throttle locks a login for at most four seconds."""
    settings = HostSettings(db_url=f"sqlite:///{tmp_path / 'h.sqlite3'}", login_backoff_max=4)
    with run_host_in_thread(settings) as host:
        host.add_user("learner@example.org", "right-password")
        yield host


def test_waiting_out_a_login_throttle_says_so(
    tmp_path: Path, throttled_host: RunningHost, secret_key: str
) -> None:
    """A throttled login prints a note on stderr that it waits, then the one error line."""
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    with Store.open(url, secret_key=secret_key, migrate=True) as store:
        base = throttled_host.base_url
        provider = add_backpack(store, throttled_host.api_url, base + "/web", "2")
    env = {"OPENBACKPACK_SECRET_KEY": secret_key, "OPENBACKPACK_OUTBOX": str(tmp_path / "o")}
    args = ("--db", url, "connect", "--user", "u1", "--backpack", str(provider.id),
            "--email", "learner@example.org", "--password", "wrong")  # fmt: skip
    wrong = {"username": "learner@example.org", "password": "wrong"}
    # A first failure locks the login for 2 s; a second one, once free, for 4 s.
    assert httpx2.post(throttled_host.base_url + "/o/token", data=wrong).status_code == 400
    time.sleep(2.05)
    assert httpx2.post(throttled_host.base_url + "/o/token", data=wrong).status_code == 400
    result = _run(*args, env=env)
    line = _one_error(result)
    assert "did not accept the email and password" in line
    notes = [entry for entry in result.stderr.splitlines() if entry.startswith("note: ")]
    assert len(notes) == 1, result.stderr
    assert re.fullmatch(
        r"note: the backpack asked to wait \(HTTP 429\): waiting \d s before trying to log "
        r"in again",
        notes[0],
    )
    assert result.stderr.index(notes[0]) < result.stderr.index(line)
