"""The reference backpack host: Badgr v2, Displayer, Badge Connect, the OB 3.0 API on loopback.

A real server that Badgr clients and Moodle's backpack code talk to unchanged::

    from openbackpack.host import HostSettings, run_host_in_thread

    with run_host_in_thread(HostSettings(db_url="sqlite:///host.sqlite3")) as host:
        host.add_user("earner@example.org", "s3cret")
        print(host.api_url)  # http://127.0.0.1:PORT/v2

Routes are mounted from :mod:`openbackpack.protocols` tables, so the host and the client read
the same definitions. See ``docs/host.md``.
"""

import typing

from openbackpack import _lazy

if typing.TYPE_CHECKING:
    from openbackpack.host._accounts import HostUser
    from openbackpack.host._app import create_app, served_routes
    from openbackpack.host._connections import uvicorn_options
    from openbackpack.host._db import HostDatabase
    from openbackpack.host._faults import FaultInjector
    from openbackpack.host._ob3store import HostCredential
    from openbackpack.host._runner import RunningHost, run_host_in_thread
    from openbackpack.host._settings import (
        HOST_DB_ENV,
        FaultSettings,
        HostSettings,
        default_host_database_url,
    )
    from openbackpack.host._users import (
        HostCollection,
        add_collection,
        add_email,
        add_user,
        list_credentials,
        list_users,
    )


__all__ = [
    "HOST_DB_ENV",
    "FaultInjector",
    "FaultSettings",
    "HostCollection",
    "HostCredential",
    "HostDatabase",
    "HostSettings",
    "HostUser",
    "RunningHost",
    "add_collection",
    "add_email",
    "add_user",
    "create_app",
    "default_host_database_url",
    "list_credentials",
    "list_users",
    "run_host_in_thread",
    "served_routes",
    "uvicorn_options",
]

__getattr__, __dir__ = _lazy.lazy_exports(__name__, __file__)
