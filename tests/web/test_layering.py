"""The pages keep to their side of the architecture: web/ never imports the reference host."""

from __future__ import annotations

import ast
from pathlib import Path

import openbackpack.web

WEB = Path(openbackpack.web.__file__).parent


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_module_of_the_pages_imports_the_reference_host() -> None:
    """No module under openbackpack/web imports openbackpack.host or anything in it."""
    offenders = {
        path.name: sorted(
            n for n in _imported(path) if n.split(".")[:2] == ["openbackpack", "host"]
        )
        for path in WEB.rglob("*.py")
    }
    assert {name: found for name, found in offenders.items() if found} == {}
