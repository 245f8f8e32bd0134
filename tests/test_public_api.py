"""The public surface: sorted, complete ``__all__`` lists and a typed package."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

import openbackpack


def _isort_key(name: str) -> tuple[int, str]:
    # The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions.
    category = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return category, name


PUBLIC_MODULES = [
    "openbackpack",
    "openbackpack.api",
    "openbackpack.cli",
    "openbackpack.client",
    "openbackpack.credentials",
    "openbackpack.host",
    "openbackpack.issuer",
    "openbackpack.models",
    "openbackpack.models.badgeconnect",
    "openbackpack.models.ob2",
    "openbackpack.models.ob3",
    "openbackpack.models.ob3api",
    "openbackpack.protocols",
    "openbackpack.protocols.badgeconnect",
    "openbackpack.protocols.badgr",
    "openbackpack.protocols.displayer",
    "openbackpack.protocols.ob3api",
    "openbackpack.serve",
    "openbackpack.store",
    "openbackpack.web",
]


def _defined_publicly(module: object, attr: str, value: object) -> bool:
    if attr.startswith("_") or inspect.ismodule(value):
        return False
    origin = getattr(value, "__module__", None)
    if origin is None or not isinstance(origin, str):
        return True  # a constant
    if hasattr(module, "__path__"):  # a package re-exports what its submodules define
        return origin.startswith("openbackpack")
    return origin == getattr(module, "__name__", "")


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_complete(name: str) -> None:
    """Each public module exports, sorted, every public name it defines, and nothing missing."""
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key)
    assert all(hasattr(module, attr) for attr in exported)
    public = {
        attr for attr, value in vars(module).items() if _defined_publicly(module, attr, value)
    }
    assert public <= set(exported), sorted(public - set(exported))


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_name_has_a_docstring(name: str) -> None:
    """Every exported class and function documents itself."""
    module = importlib.import_module(name)
    for attr in module.__all__:
        value = getattr(module, attr)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name}.{attr} has no docstring"


def test_package_is_typed() -> None:
    """The package ships the py.typed marker."""
    assert (Path(openbackpack.__file__).parent / "py.typed").is_file()


def test_version_comes_from_the_installed_metadata() -> None:
    """__version__ is the installed distribution's version."""
    from importlib.metadata import version

    assert openbackpack.__version__ == version("openbackpack")


def test_ob2_context_ships_unmodified_with_its_notice() -> None:
    """The package carries the OB 2.0 context byte for byte, beside a notice of its licence."""
    import hashlib
    from importlib import resources

    contexts = resources.files("openbackpack.issuer").joinpath("contexts")
    data = contexts.joinpath("openbadges-v2.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == (
        "3c0c25a0e581c64cbe632197377c4f334c6c0b95f0d90e3b74449781612b153d"
    )
    assert "Specification Document License" in contexts.joinpath("NOTICE.md").read_text()
