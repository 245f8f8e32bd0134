"""Finding the public key a proof names, and whether it belongs to the issuer.

* ``did:key:z…``: the key is in the identifier.
* ``did:web:…#frag``: the DID document (through the loader: ``did_web_url``) must list the
  method, as an assertion method. When the document cannot be read and the fragment is a
  Multikey (the 1EdTech convention), that key is returned *unbound*: the proof can be checked
  with it, but whether it is the issuer's key cannot be, so the verifier reports the issuer key
  as "could not be checked".
* ``https://issuer#z6Mk…``: the controller document is read when the loader can give it;
  offline, the 1EdTech convention is followed: the fragment is the Multikey, and the part
  before ``#`` must be the issuer's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openbackpack._exceptions import DocumentUnavailableError, InvalidCredentialError
from openbackpack.credentials._did import did_web_url
from openbackpack.credentials._jwt import VerifyingKey
from openbackpack.credentials._keys import UnsupportedKeyTypeError, public_key_from_multikey
from openbackpack.credentials._loader import DocumentLoader

__all__ = ["KeyUnresolvableError", "ResolvedKey", "resolve_verification_method"]


class KeyUnresolvableError(Exception):
    """The key cannot be had (a document is unavailable): the proof cannot be checked."""


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    """A public key (or JWK) and how it was found."""

    key: VerifyingKey | Mapping[str, Any]
    how: str
    bound: bool = True
    """False when the key is known only from the method itself, not from the issuer."""
    warning: str | None = None
    """What a relying party should know about how far the key is tied to the issuer."""


def _controller(method: str) -> str:
    return method.split("#", 1)[0]


def _from_document(document: Any, method: str) -> VerifyingKey | Mapping[str, Any]:
    if not isinstance(document, dict):
        raise InvalidCredentialError(f"the document of {_controller(method)} is not an object")
    methods = document.get("verificationMethod") or []
    found = [m for m in methods if isinstance(m, dict) and m.get("id") == method]
    if not found:
        raise InvalidCredentialError(f"{method} is not listed in its controller's document")
    assertion = document.get("assertionMethod")
    if isinstance(assertion, list) and not any(
        entry == method or (isinstance(entry, dict) and entry.get("id") == method)
        for entry in assertion
    ):
        raise InvalidCredentialError(f"{method} is not an assertion method of its controller")
    entry = found[0]
    if isinstance(entry.get("publicKeyMultibase"), str):
        return public_key_from_multikey(entry["publicKeyMultibase"])
    if isinstance(entry.get("publicKeyJwk"), dict):
        jwk: Mapping[str, Any] = entry["publicKeyJwk"]
        return jwk
    raise InvalidCredentialError(f"{method} has no publicKeyMultibase or publicKeyJwk")


def _unbound_fragment_key(method: str, why: str) -> ResolvedKey:
    # A did:web's keys are what its DID document lists; a Multikey in the fragment is only what
    # the credential claims. It still lets the signature be checked, so the report can say
    # "intact, signer unknown" instead of nothing.
    fragment = method.partition("#")[2]
    if not fragment.startswith("z"):
        raise KeyUnresolvableError(why)
    try:
        key = public_key_from_multikey(fragment)
    except InvalidCredentialError:
        raise KeyUnresolvableError(why) from None
    return ResolvedKey(
        key,
        f"{why}; the Multikey in the method's fragment verifies the proof but is not known"
        " to be the issuer's",
        bound=False,
    )


def resolve_verification_method(
    method: object, issuer_id: str | None, loader: DocumentLoader
) -> ResolvedKey:
    """The key of a proof's ``verificationMethod`` (or a JWT's ``kid``), bound to the issuer.

    Raises:
        InvalidCredentialError: the method is malformed, or names a key that is not the
            issuer's.
        KeyUnresolvableError: a document needed to find the key is unavailable, or the key
            is of a type this package does not read.
    """
    try:
        return _resolve(method, issuer_id, loader)
    except UnsupportedKeyTypeError as exc:
        raise KeyUnresolvableError(str(exc)) from None


def _resolve(method: object, issuer_id: str | None, loader: DocumentLoader) -> ResolvedKey:
    if not isinstance(method, str) or ":" not in method:
        raise InvalidCredentialError(f"the verification method {method!r} is not a URI")
    controller = _controller(method)
    if method.startswith("did:key:"):
        multikey = controller.removeprefix("did:key:")
        fragment = method.partition("#")[2]
        if fragment and fragment != multikey:
            raise InvalidCredentialError(f"{method}: the fragment is not the did:key's key")
        key = public_key_from_multikey(multikey)
        bound = "the issuer's own did:key" if issuer_id == controller else "a did:key"
        return ResolvedKey(key, bound)
    if issuer_id is not None and controller != issuer_id:
        raise InvalidCredentialError(
            f"the key's controller {controller} is not the issuer {issuer_id}"
        )
    if method.startswith("did:web:"):
        try:
            document = loader.get(did_web_url(controller))
        except DocumentUnavailableError as exc:
            return _unbound_fragment_key(method, f"the DID document cannot be read: {exc}")
        return ResolvedKey(_from_document(document, method), "the issuer's did:web document")
    try:
        document = loader.get(controller)
    except DocumentUnavailableError:
        document = None
    if document is not None:
        return ResolvedKey(_from_document(document, method), "the issuer's controller document")
    fragment = method.partition("#")[2]
    if not fragment.startswith("z"):
        raise KeyUnresolvableError(f"the controller document of {method} cannot be read")
    # 1EdTech's convention: "<issuer id>#<publicKeyMultibase>", the controller not fetched.
    return ResolvedKey(
        public_key_from_multikey(fragment),
        "the Multikey in the method's fragment",
        warning=(
            f"the issuer key of {method} is the Multikey in its own fragment: the controller "
            f"document {controller} could not be read, so nothing but the credential ties the "
            "key to the issuer; map that document to confirm the signer"
        ),
    )
