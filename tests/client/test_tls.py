"""The verifying TLS context is built once per process and shared by every client."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest

from openbackpack._tls import verifying_context
from openbackpack.client import AsyncBackpackClient, BackpackClient


def _pool_context(client: BackpackClient | AsyncBackpackClient) -> ssl.SSLContext:
    # httpx2 keeps the context on its connection pool; there is no public accessor.
    transport: Any = client._http._transport
    context: ssl.SSLContext = transport._pool._ssl_context
    return context


def test_clients_share_one_context() -> None:
    """Two sync clients and an async one verify with the same, process-wide SSL context."""
    with BackpackClient() as first, BackpackClient() as second:
        assert _pool_context(first) is _pool_context(second) is verifying_context()
    assert _pool_context(AsyncBackpackClient()) is verifying_context()


def test_context_verifies_certificates() -> None:
    """The shared context checks host names and certificates, as httpx2's own default does."""
    context = verifying_context()
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname


def test_ssl_cert_file_gets_its_own_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """Setting SSL_CERT_FILE after the first use still takes effect: another context is built."""
    default = verifying_context()
    bundle = ssl.get_default_verify_paths().openssl_cafile
    if not Path(bundle).is_file():
        bundle = ssl.get_default_verify_paths().cafile or ""
    assert Path(bundle).is_file(), "the system CA bundle is missing"
    monkeypatch.setenv("SSL_CERT_FILE", bundle)
    custom = verifying_context()
    assert custom is not default
    assert verifying_context() is custom
    # A fetcher ignores the environment, as it always did.
    assert verifying_context(trust_env=False) is not custom
