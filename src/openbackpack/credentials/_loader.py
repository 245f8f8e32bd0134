"""The offline JSON-LD document loader that every proof in this package is computed with.

A verifier that fetches contexts from the network lets whoever serves them change what a signed
document means, and fails when the host is down. :class:`DocumentLoader` gives the contexts
shipped in this package (VC 1.1/2.0, Data Integrity, Multikey, DID, OB 3.0, CLR 2.0), then the
files a *document map* names; anything else is refused unless a ``fetch`` function was given.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Hashable, Iterator, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final, TypeVar

from openbackpack._exceptions import DocumentUnavailableError, InvalidCredentialError
from openbackpack.credentials._status_lists import StatusListCache

__all__ = [
    "SHIPPED_CONTEXTS",
    "DocumentLoader",
    "Fetch",
    "load_document_map",
    "refuse_inline_contexts",
]

_T = TypeVar("_T")

Fetch = Callable[[str], Any]
"""Fetches a URL and returns its parsed JSON; raises :class:`DocumentUnavailableError`."""

SHIPPED_CONTEXTS: Final[Mapping[str, str]] = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/2018/credentials/v1": "2018-credentials-v1.jsonld",
    "https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://w3id.org/security/suites/ed25519-2020/v1": "security-suites-ed25519-2020-v1.jsonld",
    "https://w3id.org/security/suites/x25519-2020/v1": "security-suites-x25519-2020-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
    "https://w3id.org/citizenship/v4rc1": "citizenship-v4rc1.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": "ob-v3p0-context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld": "ob-v3p0-context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json": "context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": "context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "ob-v3p0-extensions.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context.json": "clr-v2p0.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json": "clr-v2p0-2.0.1.json",
    "https://w3id.org/openbadges/v2": "openbadges-v2.json",
    "https://openbadgespec.org/v2/context.json": "openbadges-v2.json",
}
"""Context URL -> file name under ``credentials/data/contexts`` (see the NOTICE there)."""


@cache
def _shipped(name: str) -> Any:
    path = resources.files("openbackpack.credentials").joinpath(f"data/contexts/{name}")
    return json.loads(path.read_text(encoding="utf-8"))


def load_document_map(path: str | Path) -> dict[str, Path]:
    """Read a document map file: a JSON object of URL (or prefix ending in ``/``) -> path.

    Relative paths are taken from the map file's folder.

    Raises:
        InvalidCredentialError: the file is not such a JSON object.
    """
    map_path = Path(path)
    try:
        raw = json.loads(map_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidCredentialError(f"cannot read the document map {map_path}: {exc}") from None
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise InvalidCredentialError(f"{map_path} must be a JSON object of URL -> file path")
    return {str(url): map_path.parent / target for url, target in raw.items()}


class DocumentLoader:
    """Gives JSON-LD contexts and remote documents (status lists, DID documents) without I/O.

    Order: the shipped contexts, then ``document_map`` (an exact URL, or the longest prefix
    ending in ``/`` whose remainder is a file in the mapped folder), then ``fetch`` if given.
    With a document map and no ``fetch``, an unmapped URL is unavailable.

    The instance caches what it read, so one loader should serve a batch of verifications.
    ``status_lists`` is a :class:`StatusListCache` shared by many loaders (one per request,
    say): a status list verified through any of them is not fetched again while its ``ttl``
    lasts.
    """

    def __init__(
        self,
        document_map: Mapping[str, str | Path] | None = None,
        *,
        fetch: Fetch | None = None,
        status_lists: StatusListCache | None = None,
    ) -> None:
        self._map = {url: Path(target) for url, target in (document_map or {}).items()}
        self._fetch = fetch
        self.status_lists = status_lists
        self._cache: dict[str, Any] = {}
        self._derived: dict[Hashable, Any] = {}

    @property
    def offline(self) -> bool:
        """Whether this loader can only give shipped and mapped documents."""
        return self._fetch is None

    def get(self, url: str) -> Any:
        """Return a copy of the parsed JSON document at ``url``.

        Raises:
            DocumentUnavailableError: the URL is neither shipped, mapped nor fetchable.
        """
        if url not in self._cache:
            self._cache[url] = self._load(url)
        # A copy: pyld (or a caller) must never be able to alter the cached document.
        return copy.deepcopy(self._cache[url])

    def remember(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """What ``compute()`` derives from this loader's documents, computed once per loader.

        The verifier keeps each status list's own verification here: the loader gives the
        list it fetched first to every credential of the batch, so its proof need only be
        checked once.
        """
        if key not in self._derived:
            self._derived[key] = compute()
        found: _T = self._derived[key]
        return found

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The pyld document loader interface: a remote document record for ``url``."""
        record = {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": self.get(url),
        }
        if url in SHIPPED_CONTEXTS:
            # "static" lets pyld keep the resolved and processed context in its process-wide
            # cache instead of copying, re-keying (a JSON canonicalisation of the whole
            # context) and processing it again in every operation: a third of a signature's
            # CPU. Only shipped contexts are tagged: every loader gives the same one for the
            # URL, whereas a mapped or fetched document may differ from loader to loader.
            record["tag"] = "static"
        return record

    def _load(self, url: str) -> Any:
        name = SHIPPED_CONTEXTS.get(url)
        if name is not None:
            return _shipped(name)
        mapped = self._mapped(url)
        if mapped is not None:
            try:
                return json.loads(mapped.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise DocumentUnavailableError(
                    f"{url} is mapped to {mapped}, which cannot be read: {exc}", url=url
                ) from None
        if self._fetch is None:
            raise DocumentUnavailableError(
                f"{url} is not available offline (not shipped, not in the document map)",
                url=url,
            )
        return self._fetch(url)

    def _mapped(self, url: str) -> Path | None:
        base = url.split("#", 1)[0]
        if base in self._map:
            return self._map[base]
        prefixes = [p for p in self._map if p.endswith("/") and base.startswith(p)]
        if not prefixes:
            return None
        prefix = max(prefixes, key=len)
        return self._map[prefix] / base[len(prefix) :]


def refuse_inline_contexts(document: Any) -> None:
    """Refuse a document whose ``@context`` (anywhere) is an object instead of a URL.

    An inline context lets the signer's document redefine what its own terms mean to the
    canonicaliser, so nothing signed under it can be trusted to mean what it says.

    Raises:
        InvalidCredentialError: naming the place of the first inline context found.
    """
    for path in _inline_contexts(document, "$"):
        raise InvalidCredentialError(f"an inline @context object is not accepted (at {path})")


def _inline_contexts(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "@context":
                entries = item if isinstance(item, list) else [item]
                if any(not isinstance(entry, str) for entry in entries):
                    yield f"{path}.@context"
            else:
                yield from _inline_contexts(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _inline_contexts(item, f"{path}[{index}]")
