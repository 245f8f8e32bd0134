"""Every command's help: plain value names, no raw annotations or formats, and ``-h``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from openbackpack.cli import app

runner = CliRunner()


def _paths(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _paths(command, (*prefix, name))
        else:
            yield (*prefix, name)


_COMMANDS = list(_paths(typer.main.get_group(app)))


@pytest.mark.parametrize("path", _COMMANDS, ids=lambda path: " ".join(path) or "root")
def test_help_is_plain_and_answers_to_dash_h(path: tuple[str, ...]) -> None:
    """-h prints the --help text, which has no <bool>, <list[...]>, strptime format or backtick."""
    long = runner.invoke(app, [*path, "--help"], terminal_width=100)
    short = runner.invoke(app, [*path, "-h"], terminal_width=100)
    assert long.exit_code == 0, long.output
    assert short.output == long.output
    for raw in ("<bool>", "<list[", "<str>", "<int>", "%Y", "`"):
        assert raw not in long.output, f"{raw!r} in help of {' '.join(path)}"
