"""Open Badges 3.0 (and 2.0) as documents that prove themselves.

Verify anything with :func:`verify_credential` (a report of named checks). Sign with Data
Integrity ``eddsa-rdfc-2022`` (:func:`sign_data_integrity`; ``ecdsa-rdfc-2019`` and derived
``ecdsa-sd-2023`` proofs verify too) or as a VC-JWT
(:func:`sign_vc_jwt`); every JSON-LD context comes from an offline :class:`DocumentLoader`
that knows only the contexts shipped here and those a document map names. Nothing in this
package opens a network connection: fetching, where allowed, is a function the caller injects.

.. versionadded:: 0.1
"""

import typing

from openbackpack import _lazy

if typing.TYPE_CHECKING:
    from openbackpack.credentials._bake import (
        Baked,
        bake_png,
        bake_svg,
        unbake,
        unbake_png,
        unbake_svg,
    )
    from openbackpack.credentials._did import (
        DID_CONTEXTS,
        VerificationKey,
        did_document,
        did_web_for,
        did_web_url,
    )
    from openbackpack.credentials._integrity import (
        CRYPTOSUITE,
        PUBLISHED_CRYPTOSUITES,
        VERIFIED_CRYPTOSUITES,
        Canonical,
        canonicalize,
        is_supported_proof,
        proof_canonical_forms,
        sign_data_integrity,
        verify_data_integrity_proof,
    )
    from openbackpack.credentials._jwt import (
        VERIFY_ALGORITHMS,
        JwtParts,
        VerifyingKey,
        jose_key,
        read_jwt,
        sign_vc_jwt,
        verify_vc_jwt,
    )
    from openbackpack.credentials._keys import (
        KeyAlgorithm,
        KeyPair,
        PublicKey,
        UnsupportedKeyTypeError,
        decode_multibase,
        did_key,
        encode_multibase,
        public_key_from_multikey,
    )
    from openbackpack.credentials._loader import (
        SHIPPED_CONTEXTS,
        DocumentLoader,
        Fetch,
        load_document_map,
        refuse_inline_contexts,
    )
    from openbackpack.credentials._report import Check, CheckOutcome, Outcome, VerificationReport
    from openbackpack.credentials._source import CredentialSource, verify_credential
    from openbackpack.credentials._status import decode_bitstring, encode_bitstring
    from openbackpack.credentials._status_lists import StatusListCache


__all__ = [
    "CRYPTOSUITE",
    "DID_CONTEXTS",
    "PUBLISHED_CRYPTOSUITES",
    "SHIPPED_CONTEXTS",
    "VERIFIED_CRYPTOSUITES",
    "VERIFY_ALGORITHMS",
    "Baked",
    "Canonical",
    "Check",
    "CheckOutcome",
    "CredentialSource",
    "DocumentLoader",
    "Fetch",
    "JwtParts",
    "KeyAlgorithm",
    "KeyPair",
    "Outcome",
    "PublicKey",
    "StatusListCache",
    "UnsupportedKeyTypeError",
    "VerificationKey",
    "VerificationReport",
    "VerifyingKey",
    "bake_png",
    "bake_svg",
    "canonicalize",
    "decode_bitstring",
    "decode_multibase",
    "did_document",
    "did_key",
    "did_web_for",
    "did_web_url",
    "encode_bitstring",
    "encode_multibase",
    "is_supported_proof",
    "jose_key",
    "load_document_map",
    "proof_canonical_forms",
    "public_key_from_multikey",
    "read_jwt",
    "refuse_inline_contexts",
    "sign_data_integrity",
    "sign_vc_jwt",
    "unbake",
    "unbake_png",
    "unbake_svg",
    "verify_credential",
    "verify_data_integrity_proof",
    "verify_vc_jwt",
]

__getattr__, __dir__ = _lazy.lazy_exports(__name__, __file__)
