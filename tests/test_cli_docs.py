"""Every command documents itself and is shown in the README or the docs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main

from openbackpack.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, command in group.commands.items():
        path = (*prefix, name)
        yield path, command
        if hasattr(command, "commands"):
            yield from _commands(command, path)


def _documentation() -> str:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


def test_every_command_has_help_and_appears_in_the_docs() -> None:
    """Each command and subcommand has help text and is mentioned as `openbackpack ...`."""
    documentation = _documentation()
    root = typer.main.get_command(app)
    missing_help, undocumented = [], []
    for path, command in _commands(root):
        if not (command.help or "").strip():
            missing_help.append(" ".join(path))
        # "openbackpack backpacks add" or the docs' short form "openbackpack backpacks add|edit"
        parents = " ".join(re.escape(part) for part in path[:-1])
        pattern = rf"openbackpack {parents + ' ' if parents else ''}(?:[\w-]+[|\\]+)*"
        pattern += rf"{re.escape(path[-1])}\b"
        if not re.search(pattern, documentation):
            undocumented.append(" ".join(path))
    assert missing_help == []
    assert undocumented == []
