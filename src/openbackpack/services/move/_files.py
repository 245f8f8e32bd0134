"""Badges in files as a move's source: baked PNG/SVG, 2.0 assertion JSON, 3.0 JSON or JWT."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from openbackpack._exceptions import InvalidInputError
from openbackpack.services.move._model import SourceBadge

__all__ = ["FileSource"]

_SUFFIXES: Final = frozenset({".png", ".svg", ".json", ".jsonld", ".jwt", ".jws", ".txt"})


class FileSource:
    """A file, or a folder of them (searched recursively, in name order).

    Files are never deleted: a learner's own copies are theirs to remove.

    Raises:
        InvalidInputError: the path does not exist, or a folder holds no badge files.
    """

    def __init__(self, path: Path, emails: Sequence[str] = ()) -> None:
        if not path.exists():
            raise InvalidInputError(f"{path} does not exist")
        self.path = path
        self._emails = tuple(emails)

    @property
    def label(self) -> str:
        """``files in PATH`` or ``file PATH``."""
        return f"files in {self.path}" if self.path.is_dir() else f"file {self.path}"

    @property
    def emails(self) -> tuple[str, ...]:
        """The emails given for the learner (files know of none)."""
        return self._emails

    @property
    def deletion(self) -> str | None:
        """Files are not deleted."""
        return "badges in files are never deleted; remove the files yourself"

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        found = sorted(
            p for p in self.path.rglob("*") if p.is_file() and p.suffix.lower() in _SUFFIXES
        )
        if not found:
            raise InvalidInputError(f"{self.path} holds no badge files ({', '.join(_SUFFIXES)})")
        return found

    def read(self) -> list[SourceBadge]:
        """One badge per file."""
        return [self._badge(path) for path in self._files()]

    def _badge(self, path: Path) -> SourceBadge:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from None
        where = f"file {path}"
        key = str(path.resolve())
        if data.startswith(b"\x89PNG") or b"<svg" in data[:4096].lower():
            return SourceBadge(key, where, data, image=data)
        text = data.decode("utf-8", errors="replace").strip()
        payload: Any = text
        if text.startswith("{"):
            try:
                payload = json.loads(text)
            except ValueError:
                payload = text  # the verifier reports what is wrong with it
        return SourceBadge(key, where, payload)

    def delete(self, badge: SourceBadge) -> None:  # pragma: no cover - deletion is refused first
        """Never called: see :attr:`deletion`."""
        raise NotImplementedError(self.deletion)
