"""How a reference backpack host is configured: a typed, immutable settings record."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Final

from openbackpack._exceptions import InvalidInputError
from openbackpack._settings import data_dir

__all__ = ["HOST_DB_ENV", "FaultSettings", "HostSettings", "default_host_database_url"]

HOST_DB_ENV: Final = "OPENBACKPACK_HOST_DB"
"""Environment variable naming the host's database URL."""

FAULT_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


def default_host_database_url() -> str:
    """Return ``$OPENBACKPACK_HOST_DB``, or ``host.sqlite3`` in the user's data directory."""
    configured = os.environ.get(HOST_DB_ENV, "").strip()
    if configured:
        return configured
    return f"sqlite:///{data_dir() / 'host.sqlite3'}"


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """Faults the host injects on purpose, for tests and benchmarks. All off by default.

    Attributes:
        latency: seconds added before every answer.
        failure_rate: the share (0 to 1) of requests answered with one of ``failure_statuses``.
        failure_statuses: the statuses to fail with (429, 500, 502, 503 or 504); 429 carries
            ``Retry-After``.
        fail_first: fail the first N requests, whatever the rate (deterministic).
        drop_rate: the share of requests whose answer is cut off mid-body (the connection is
            closed after the headers and part of the body).
        drop_first: cut off the first N answers (deterministic).
        rate_limit: a token bucket: requests per second; beyond it, 429 with ``Retry-After``.
        burst: the bucket's size (requests accepted at once).
        retry_after: the ``Retry-After`` seconds sent with injected 429 answers.
        seed: seeds the random draws, so a run can be repeated exactly.
        black_hole_first: answer the first N creates and imports (a Badgr import, a Badge
            Connect ``POST /assertions``) with success, and store nothing.
        black_hole_rate: the share of creates and imports answered so.
    """

    latency: float = 0.0
    failure_rate: float = 0.0
    failure_statuses: tuple[int, ...] = (503,)
    fail_first: int = 0
    drop_rate: float = 0.0
    drop_first: int = 0
    rate_limit: float | None = None
    burst: int = 1
    retry_after: int = 1
    seed: int | None = None
    black_hole_first: int = 0
    black_hole_rate: float = 0.0

    def __post_init__(self) -> None:
        _check(self.latency >= 0, "latency must be >= 0")
        _check(0 <= self.failure_rate <= 1, "failure_rate must be between 0 and 1")
        _check(0 <= self.drop_rate <= 1, "drop_rate must be between 0 and 1")
        _check(self.fail_first >= 0 and self.drop_first >= 0, "counts must be >= 0")
        _check(self.black_hole_first >= 0, "counts must be >= 0")
        _check(0 <= self.black_hole_rate <= 1, "black_hole_rate must be between 0 and 1")
        _check(bool(self.failure_statuses), "failure_statuses must not be empty")
        unknown = set(self.failure_statuses) - FAULT_STATUSES
        _check(not unknown, f"failure statuses must be among {sorted(FAULT_STATUSES)}")
        _check(self.rate_limit is None or self.rate_limit > 0, "rate_limit must be > 0")
        _check(self.burst >= 1, "burst must be >= 1")
        _check(self.retry_after >= 0, "retry_after must be >= 0")

    @property
    def enabled(self) -> bool:
        """Whether any fault is configured at all."""
        return bool(
            self.latency
            or self.failure_rate
            or self.fail_first
            or self.drop_rate
            or self.drop_first
            or self.rate_limit
            or self.black_hole_first
            or self.black_hole_rate
        )


@dataclass(frozen=True, slots=True)
class HostSettings:
    """Everything a reference backpack host needs to start.

    Attributes:
        db_url: ``sqlite:///PATH`` or ``postgresql+psycopg://...``; defaults to
            ``$OPENBACKPACK_HOST_DB`` or ``host.sqlite3`` in the user data directory.
        public_url: the public origin used in ``openBadgeId``, ``share_url`` and public
            JSON ids (e.g. ``https://backpack.example.org``). When unset, each request's own
            base URL is used.
        token_lifetime: seconds an access token lives (Badgr: 86400).
        allow_private_fetch: let ``/v2/backpack/import`` fetch loopback and private addresses
            (tests and demos on one machine need it; a public host must not).
        fetch_timeout: connect and read timeout of import fetches, in seconds.
        fetch_max_bytes: the largest document an import fetch reads.
        max_body_bytes: the largest request body accepted (413 beyond it).
        login_backoff_max: the cap, in seconds, of Badgr's failed-login backoff; 0 disables
            the login throttle (as Badgr's ``TOKEN_BACKOFF_MAXIMUM_SECONDS=0``).
        public_client_id: the OAuth client id Moodle-style password grants run under.
        migrate: create and upgrade the host's tables when the app is created.
        faults: fault injection (off by default).
        static_path: also answer ``GET`` at this path with a fixed empty Badgr envelope,
            through the same middleware and worker threads as every route but doing no
            work: the ceiling benchmarks measure the real routes against. Off by default.
        badgr_quirks: serve Badge Connect as Badgr does (``/bcv1`` apiBase, ``results``
            lists, ``error`` arrays, a 302 to the manifest, ...) instead of as the 1EdTech
            specification says, so clients can be tested against both.
        allow_loopback_redirects: accept ``http`` loopback URLs (127.0.0.1, ::1, localhost)
            in Badge Connect client registrations, as native apps and tests need (RFC 8252).
            Also on when ``allow_private_fetch`` is.
        auth_code_lifetime: seconds an authorization code stays redeemable.
        keep_alive_timeout: seconds an idle kept-alive connection stays open after an
            answer (uvicorn's ``timeout_keep_alive``).
        header_timeout: seconds a connection has to send a request's line and headers,
            from when it opens or its previous answer ends; then it is closed.
        body_timeout: the longest silence, in seconds, while a request body arrives.
        limit_concurrency: open connections (and running requests) beyond which new
            requests get 503; 0 for no limit.
        ob3_accept_unchecked: store a credential pushed through the Open Badges 3.0 API
            even when some check could not be made (a status list or DID document that did
            not answer). Off by default: such a push is refused with the checks named, and
            the platform can push again later. A credential that fails a check is always
            refused.
        status_list_max_age: the longest time, in seconds, the Open Badges 3.0 API relies on
            a status list it verified before fetching it again. A list is kept only as long
            as its own ``ttl`` says, and not at all without one; 0 keeps none, so every
            pushed credential's list is fetched (a revocation is then seen at once).
    """

    db_url: str | None = None
    public_url: str | None = None
    token_lifetime: int = 86400
    allow_private_fetch: bool = False
    fetch_timeout: float = 10.0
    fetch_max_bytes: int = 1024 * 1024
    max_body_bytes: int = 4 * 1024 * 1024
    login_backoff_max: int = 3600
    public_client_id: str = "public"
    migrate: bool = True
    faults: FaultSettings = field(default_factory=FaultSettings)
    static_path: str | None = None
    badgr_quirks: bool = False
    allow_loopback_redirects: bool = False
    auth_code_lifetime: int = 60
    keep_alive_timeout: float = 5.0
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    limit_concurrency: int = 1000
    ob3_accept_unchecked: bool = False
    status_list_max_age: float = 300.0

    def __post_init__(self) -> None:
        _check(self.token_lifetime > 0, "token_lifetime must be > 0")
        _check(self.fetch_timeout > 0, "fetch_timeout must be > 0")
        _check(self.fetch_max_bytes > 0, "fetch_max_bytes must be > 0")
        _check(self.max_body_bytes > 0, "max_body_bytes must be > 0")
        _check(self.login_backoff_max >= 0, "login_backoff_max must be >= 0")
        _check(self.auth_code_lifetime > 0, "auth_code_lifetime must be > 0")
        _check(self.keep_alive_timeout > 0, "keep_alive_timeout must be > 0")
        _check(self.header_timeout > 0, "header_timeout must be > 0")
        _check(self.body_timeout > 0, "body_timeout must be > 0")
        _check(self.limit_concurrency >= 0, "limit_concurrency must be >= 0")
        _check(self.status_list_max_age >= 0, "status_list_max_age must be >= 0")
        if self.public_url is not None:
            url = self.public_url.strip()
            _check(url.startswith(("http://", "https://")), "public_url must be http(s)")
        if self.static_path is not None:
            _check(self.static_path.startswith("/"), "static_path must start with /")

    @property
    def loopback_redirects(self) -> bool:
        """Whether registrations may use ``http`` loopback URLs."""
        return self.allow_loopback_redirects or self.allow_private_fetch

    @property
    def database_url(self) -> str:
        """The database URL in force (the configured one or the default)."""
        return self.db_url or default_host_database_url()


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidInputError(message)
