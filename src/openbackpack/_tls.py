"""One verifying TLS context per process, shared by every HTTP client openbackpack makes.

Building an ``ssl.SSLContext`` loads the system's CA bundle: about 28 ms of CPU on a small
machine, which ``httpx2`` pays again for every client and transport it is given no context
for. A host that fetches two documents per badge import, or a program that opens a
:class:`~openbackpack.client.BackpackClient` per call, spent more on that than on the
requests. An ``SSLContext`` may be shared by any number of connections and threads.
"""

from __future__ import annotations

import os
import ssl
import threading
from typing import Final

import httpx2

__all__ = ["verifying_context"]

_lock: Final = threading.Lock()
_contexts: dict[tuple[bool, str | None, str | None], ssl.SSLContext] = {}


def verifying_context(*, trust_env: bool = True) -> ssl.SSLContext:
    """The process's certificate-checking context, built on first use.

    With ``trust_env`` the context honours ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` as
    ``httpx2`` does; a change to either after the first call gets a context of its own.
    """
    key = (
        trust_env,
        os.environ.get("SSL_CERT_FILE") if trust_env else None,
        os.environ.get("SSL_CERT_DIR") if trust_env else None,
    )
    context = _contexts.get(key)
    if context is None:
        with _lock:
            context = _contexts.get(key)
            if context is None:
                context = httpx2.create_ssl_context(trust_env=trust_env)
                _contexts[key] = context
    return context
