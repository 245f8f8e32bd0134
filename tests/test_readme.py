"""The README's Python examples type-check under ``mypy --strict``; the offline one runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from mypy import api as mypy_api

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks() -> list[str]:
    return _BLOCK.findall(README.read_text(encoding="utf-8"))


def test_the_readme_python_blocks_pass_mypy_strict(tmp_path: Path) -> None:
    """Every ```python block of the README, as its own module, passes mypy --strict."""
    blocks = _blocks()
    assert blocks
    files = []
    for index, block in enumerate(blocks):
        path = tmp_path / f"readme_block_{index}.py"
        path.write_text(block, encoding="utf-8")
        files.append(str(path))
    # The default cache (.mypy_cache, warm after linting) keeps this to a few seconds.
    stdout, stderr, status = mypy_api.run(["--strict", *files])
    assert status == 0, stdout + stderr


def test_the_store_example_runs_as_written(tmp_path: Path) -> None:
    """The README's first example (the store, no network) runs in a fresh directory."""
    result = subprocess.run(
        [sys.executable, "-c", _blocks()[0]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "OPENBACKPACK_SECRET_KEY": ""},
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "backpacks.sqlite3").exists()
