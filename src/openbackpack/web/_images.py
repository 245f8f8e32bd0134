"""Badge images from other hosts, fetched by this server and served from this app.

The learner's browser never calls a third party: the badges page links ``/images/TOKEN``,
where the token is the image URL signed with the app's secret (so nobody can make this
server fetch an address of their choosing). The fetch follows the rules of an import, with
the same pinned fetcher: http(s) only, no private, loopback or link-local address unless the
settings allow it (checked again on each of at most three redirects, and connected to as
checked), a size cap, and only PNG, JPEG, GIF or SVG, which is then served with a CSP that
forbids scripts. Images are cached in memory, a bounded number, for an
hour.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from openbackpack._pinned_fetch import Fetcher, FetchError, Resolver
from openbackpack.web._context import web_of

__all__ = ["ImageCache", "image_links", "image_src", "routes"]

MAX_BYTES: Final = 512 * 1024
_TYPES: Final = frozenset({"image/png", "image/jpeg", "image/gif", "image/svg+xml"})
_SVG_CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
_TTL: Final = 3600.0
_KEPT: Final = 512
_REDIRECTS: Final = 3
_TIMEOUT: Final = 5.0
_SALT: Final = "openbackpack.web.image"


class ImageRefused(Exception):
    """The image cannot be fetched under the rules; the reason says why."""


class ImageCache:
    """Fetched images by URL: (media type, bytes, when fetched), least recently used dropped.

    Fetching goes through the pinned fetcher that imports use
    (:class:`openbackpack._pinned_fetch.Fetcher`): the host name is resolved once, every
    address is checked, and the connection goes to the checked address, so a name that
    re-resolves to a private address after the check (DNS rebinding) reaches nothing.
    ``resolver`` replaces DNS and ``timeout`` bounds each fetch (tests).
    """

    def __init__(
        self, *, allow_private: bool, resolver: Resolver | None = None, timeout: float = _TIMEOUT
    ) -> None:
        self.allow_private = allow_private
        self._fetcher = Fetcher(
            timeout=timeout,
            max_bytes=MAX_BYTES,
            allow_private=allow_private,
            resolver=resolver,
            accept=", ".join(sorted(_TYPES)),
            max_redirects=_REDIRECTS,
        )
        self._items: OrderedDict[str, tuple[str, bytes, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str) -> tuple[str, bytes]:
        """Return the image at ``url``, from the cache when fresh, else fetched now.

        Raises:
            ImageRefused: the URL may not be fetched, or did not answer an image.
        """
        with self._lock:
            item = self._items.get(url)
            if item is not None and time.monotonic() - item[2] < _TTL:
                self._items.move_to_end(url)
                return item[0], item[1]
        media_type, content = self._fetch(url)
        with self._lock:
            self._items[url] = (media_type, content, time.monotonic())
            while len(self._items) > _KEPT:
                self._items.popitem(last=False)
        return media_type, content

    def _fetch(self, url: str) -> tuple[str, bytes]:
        try:
            fetched = self._fetcher.get(url)
        except FetchError as error:
            raise ImageRefused(error.reason) from None
        if fetched.status != 200:
            raise ImageRefused(f"HTTP {fetched.status}")
        media_type = fetched.media_type.lower()
        if media_type not in _TYPES:
            raise ImageRefused(f"not an image type served here: {media_type!r}")
        return media_type, fetched.content


@functools.lru_cache(maxsize=8)
def _serializer_for(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SALT)


@functools.lru_cache(maxsize=4096)
def _token(secret_key: str, image: str) -> str:
    # Tokens carry no time, so one image has one token: badges of one class share an image,
    # and a page of many badges signs each image once.
    token = _serializer_for(secret_key).dumps(image)
    assert isinstance(token, str)
    return token


def _serializer(request: Request) -> URLSafeSerializer:
    return _serializer_for(web_of(request).settings.secret_key)


def image_src(request: Request, image: str | None) -> str | None:
    """The ``src`` to show a badge image with: this app's URL for it, or None."""
    return image_links(request)(image)


def image_links(request: Request) -> Callable[[str | None], str | None]:
    """:func:`image_src` for many images of one page: the route is looked up once.

    A page of 200 badges otherwise spends most of its rendering in ``url_for``.
    """
    secret_key = web_of(request).settings.secret_key
    prefix: list[str] = []

    def link(image: str | None) -> str | None:
        if not image or not image.startswith(("https://", "http://")):
            return None
        if not prefix:
            # Tokens are URL-safe base64 and dots: appended as they are, as url_for would.
            prefix.append(str(request.url_for("badge_image", token="_"))[:-1])  # noqa: S106
        return prefix[0] + _token(secret_key, image)

    return link


async def badge_image(request: Request) -> Response:
    """Serve a badge image named by a signed token, fetched (or cached) under the rules."""
    try:
        url = _serializer(request).loads(request.path_params["token"])
    except BadSignature:
        raise HTTPException(404) from None
    cache = request.app.state.images
    assert isinstance(cache, ImageCache)
    try:
        media_type, content = await run_in_threadpool(cache.get, str(url))
    except ImageRefused:
        raise HTTPException(404) from None
    headers = {"cache-control": "private, max-age=3600"}
    if media_type == "image/svg+xml":
        headers["content-security-policy"] = _SVG_CSP
    return Response(content, media_type=media_type, headers=headers)


def routes() -> list[BaseRoute]:
    """The image route."""
    return [Route("/images/{token}", badge_image, name="badge_image")]
