"""What the fork server of ``push_crash_forked`` loads before it forks any pushing child.

A prefork pool's parent (Celery's, gunicorn's with preloading) imports the application once;
each child it forks, first or replacing one that was killed, starts with it loaded. Here
that is the pushing module and the process's one TLS context.
"""

from __future__ import annotations

from benchmarks._crash_child import forked
from openbackpack._tls import verifying_context

__all__ = ["forked"]

verifying_context()
