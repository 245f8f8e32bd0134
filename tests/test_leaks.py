"""What the toolkit keeps and prints: no URL credentials, no echoed tokens, private files."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import Response
from typer.testing import CliRunner

from openbackpack import APIStatusError, AuthenticationError, InvalidUrlError
from openbackpack.cli import app
from openbackpack.client import AsyncBackpackClient, BackpackClient, RetryPolicy
from openbackpack.protocols import Endpoint, Shape
from openbackpack.store import Store
from tests.client._servers import recording_server

TOKEN = "tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
SECRET_URL = "http://admin:hunter2pw@backpack.example/v2"
runner = CliRunner()


@pytest.fixture
def mode_022() -> Iterator[None]:
    """Run with the common umask 022, under which files are created 0644 unless asked."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("mode_022")
def test_store_file_is_0600_in_a_new_0700_directory(tmp_path: Path) -> None:
    """A new SQLite store is created 0600, and the directories made for it 0700."""
    path = tmp_path / "new" / "store.sqlite3"
    with Store.open(f"sqlite:///{path}"):
        pass
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert _mode(path.with_name("store.sqlite3.key")) == 0o600


@pytest.mark.usefixtures("mode_022")
def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    """A directory the user made is not re-permissioned; the file in it is still 0600."""
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o755)
    with Store.open(f"sqlite:///{mine / 'store.sqlite3'}"):
        pass
    assert _mode(mine) == 0o755
    assert _mode(mine / "store.sqlite3") == 0o600


@pytest.mark.usefixtures("mode_022")
def test_default_data_directory_is_tightened_to_0700(tmp_path: Path) -> None:
    """The default data directory is ours: made 0700, even when it already existed 0755."""
    data = tmp_path / "xdg-data" / "openbackpack"  # XDG_DATA_HOME is set by the suite
    data.mkdir(parents=True, mode=0o755)
    with Store.open():
        pass
    assert _mode(data) == 0o700
    assert _mode(data / "openbackpack.sqlite3") == 0o600


def test_credentials_in_a_provider_url_are_refused_and_not_stored(tmp_path: Path) -> None:
    """A URL with user:password@ raises InvalidUrlError without the password; nothing is stored."""
    with Store.open(f"sqlite:///{tmp_path / 's.sqlite3'}") as store:
        with pytest.raises(InvalidUrlError) as caught, store.transaction() as tx:
            tx.providers.create(SECRET_URL, "https://backpack.example", "2")
        assert "hunter2pw" not in str(caught.value)
        assert "hunter2pw" not in repr(caught.value.value)
        assert "credentials" in str(caught.value)
        with store.transaction() as tx:
            assert tx.providers.list() == []
            good = tx.providers.create("https://backpack.example/v2", "https://b.example", "2")
        with pytest.raises(InvalidUrlError), store.transaction() as tx:
            tx.providers.update(good.id, web_url="https://u:p@b.example")
        with store.transaction() as tx:
            assert tx.providers.get(good.id).web_url == "https://b.example"


def test_cli_refuses_credentials_in_a_url_and_lists_nothing(tmp_path: Path) -> None:
    """`backpacks add` with user:password@ fails cleanly; `backpacks list` shows no password."""
    db = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    added = runner.invoke(
        app, ["--db", db, "backpacks", "add", SECRET_URL, "https://backpack.example"]
    )
    assert added.exit_code != 0
    assert "hunter2pw" not in added.output
    assert "Traceback" not in added.output
    listed = runner.invoke(app, ["--db", db, "backpacks", "list", "--json"])
    assert listed.exit_code == 0
    assert "hunter2pw" not in listed.output


ECHO = Endpoint("echo", "GET", "/echo", shape=Shape.DOCUMENT)
PLAIN = Endpoint("plain", "GET", "/plain", shape=Shape.DOCUMENT)


def _fetch(kind: str, url: str, route: Endpoint) -> Any:
    if kind == "sync":
        with BackpackClient(retry=RetryPolicy.never()) as client:
            return client.fetch(route, url + "/v2", token=TOKEN)

    async def go() -> Any:
        async with AsyncBackpackClient(retry=RetryPolicy.never()) as client:
            return await client.fetch(route, url + "/v2", token=TOKEN)

    return asyncio.run(go())


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_echoed_bearer_token_is_redacted_from_the_error_and_its_body(kind: str) -> None:
    """A token a server echoes (bare, in JSON or text) is in neither the message nor .body."""
    routes = {
        "/v2/echo": Response(
            f'{{"detail": "Bearer {TOKEN} is not valid", "access_token": "{TOKEN}",'
            f' "nested": [{{"password": "hunter2pw"}}]}}',
            status_code=401,
            media_type="application/json",
        ),
        "/v2/plain": Response(f"refused Bearer {TOKEN}", status_code=403),
    }
    with recording_server(routes) as (url, seen):
        with pytest.raises(AuthenticationError) as json_error:
            _fetch(kind, url, ECHO)
        with pytest.raises(APIStatusError) as text_error:
            _fetch(kind, url, PLAIN)
    assert seen.seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    for caught in (json_error, text_error):
        shown = f"{caught.value} {caught.value.description} {caught.value.body!r}"
        assert TOKEN not in shown
        assert "hunter2pw" not in shown
    assert json_error.value.body["detail"] == "Bearer [redacted] is not valid"
    assert json_error.value.body["nested"] == [{"password": "[redacted]"}]
    assert text_error.value.body == "refused Bearer [redacted]"
