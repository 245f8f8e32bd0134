"""Public names of a package loaded on first use, so one import does not load the whole toolkit.

A package lists its re-exports as ordinary imports under ``if typing.TYPE_CHECKING:`` (type
checkers and readers see them as they are) and ends with::

    __getattr__, __dir__ = _lazy.lazy_exports(__name__, __file__)

The imports are read from the package's own source once, so the list of names is written
in one place. A process that pushes awards then loads the store, the client and the push,
not the web app, the credential verifier and FastAPI that other names need: every pushing
process, worker and CLI command starts that much sooner.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["lazy_exports"]


def _type_checking_imports(source: str) -> dict[str, str]:
    """Each name imported under ``if TYPE_CHECKING:`` in ``source``, with its module."""
    origins: dict[str, str] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.If) and _is_type_checking(node.test)):
            continue
        for statement in node.body:
            if isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
                for alias in statement.names:
                    origins[alias.asname or alias.name] = statement.module
    return origins


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Attribute):  # typing.TYPE_CHECKING
        return test.attr == "TYPE_CHECKING"
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def lazy_exports(
    module_name: str, module_file: str
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose re-exports load on first use.

    Args:
        module_name: the package's ``__name__``.
        module_file: the package's ``__file__``; its ``if TYPE_CHECKING:`` imports name what
            is exported and where each name lives.
    """
    origins = _type_checking_imports(Path(module_file).read_text(encoding="utf-8"))
    # Called from the package's own body: it is in sys.modules, still being executed.
    package = sys.modules[module_name]

    def __getattr__(name: str) -> object:
        origin = origins.get(name)
        if origin is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(origin), name)
        # Kept on the package: the next lookup is an ordinary attribute read.
        setattr(package, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(package), *origins})

    return __getattr__, __dir__
