"""What a pushing process loads: the store, the client and the push, not the whole toolkit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import openbackpack

_HEAVY = frozenset(
    {"fastapi", "alembic", "pyld", "jsonschema", "joserfc", "openbackpack.credentials"}
)


def _loaded_after(statement: str) -> set[str]:
    probe = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    answer = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(answer.stdout))


def test_the_push_path_does_not_load_the_web_app_migrations_or_verifier() -> None:
    """Importing the client, the store and push_awards loads none of FastAPI, Alembic, JSON-LD."""
    loaded = _loaded_after(
        "from openbackpack.client import BackpackClient\n"
        "from openbackpack.services import push_awards\n"
        "from openbackpack.store import Store"
    )
    assert not loaded & _HEAVY


def test_opening_a_current_store_does_not_load_alembic(tmp_path: Path) -> None:
    """A store already at the head opens without loading Alembic or its migration scripts."""
    url = f"sqlite:///{tmp_path}/s.sqlite3"
    openbackpack.Store.open(url).close()
    loaded = _loaded_after(f"from openbackpack.store import Store\nStore.open({url!r}).close()")
    assert "alembic" not in loaded


def test_every_lazy_name_of_the_top_package_resolves() -> None:
    """Each name in openbackpack.__all__ loads on first use, and dir() lists it."""
    for name in openbackpack.__all__:
        assert getattr(openbackpack, name) is not None
    assert set(openbackpack.__all__) <= set(dir(openbackpack))


def test_an_unknown_name_is_an_attribute_error() -> None:
    """A name the package does not export raises AttributeError naming it."""
    with pytest.raises(AttributeError, match="no_such_name"):
        openbackpack.no_such_name  # noqa: B018


def test_the_command_line_loads_no_web_stack_or_migrations_to_start() -> None:
    """Starting the CLI loads neither FastAPI, Starlette, Alembic, Celery nor the page templates."""
    loaded = _loaded_after("import openbackpack.cli._app")
    assert not loaded & {"fastapi", "starlette", "alembic", "celery", "jinja2"}
