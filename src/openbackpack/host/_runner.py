"""Running a host on a free loopback port in a background thread (tests, benchmarks, demo)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.types import ASGIApp

from openbackpack.host._accounts import HostUser
from openbackpack.host._app import create_app
from openbackpack.host._badgeconnect import api_prefix
from openbackpack.host._connections import uvicorn_options
from openbackpack.host._db import HostDatabase
from openbackpack.host._faults import FaultInjector
from openbackpack.host._settings import HostSettings
from openbackpack.host._state import API_PREFIX, HostState
from openbackpack.host._users import add_user
from openbackpack.protocols import ob3api
from openbackpack.protocols.badgeconnect import WELL_KNOWN_PATH
from openbackpack.serve import serve_in_thread

__all__ = ["RunningHost", "run_host_in_thread"]


@dataclass(frozen=True, slots=True)
class RunningHost:
    """A host serving in the background.

    Attributes:
        base_url: the origin, e.g. ``http://127.0.0.1:49152`` (token endpoint, public pages,
            Displayer).
        api_url: the Badgr v2 API URL, ``base_url + "/v2"``; :attr:`manifest_url` and
            :attr:`badgeconnect_api_url` locate Badge Connect.
        app: the ASGI app.
        database: the host's database.
        faults: the live fault injector (``fail_next``, ``drop_next``).
    """

    base_url: str
    api_url: str
    app: FastAPI
    database: HostDatabase
    faults: FaultInjector

    @property
    def manifest_url(self) -> str:
        """The Badge Connect manifest URL, ``base_url + "/.well-known/badgeconnect.json"``."""
        return self.base_url + WELL_KNOWN_PATH

    @property
    def badgeconnect_api_url(self) -> str:
        """The Badge Connect ``apiBase``: ``/ims/ob/v2p1``, or ``/bcv1`` in Badgr mode."""
        state: HostState = self.app.state.host
        return self.base_url + api_prefix(state.settings.badgr_quirks)

    @property
    def ob3_api_url(self) -> str:
        """The Open Badges 3.0 API base, ``base_url + "/ims/ob/v3p0"`` (``/discovery`` below)."""
        return self.base_url + ob3api.API_PATH

    def add_user(self, email: str, password: str, *, verified: bool = True) -> HostUser:
        """Create a user on this host (see :func:`openbackpack.host.add_user`)."""
        return add_user(self.database, email, password, verified=verified)


@contextmanager
def run_host_in_thread(
    settings: HostSettings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    database: HostDatabase | None = None,
    mounts: Mapping[str, ASGIApp] | None = None,
) -> Iterator[RunningHost]:
    """Serve a host on ``host:port`` (port 0: a free one) until the block ends."""
    app = create_app(settings, database=database, mounts=mounts)
    state: HostState = app.state.host
    options = uvicorn_options(state.settings)
    with serve_in_thread(app, host=host, port=port, options=options) as base_url:
        yield RunningHost(base_url, base_url + API_PREFIX, app, state.database, state.faults)
