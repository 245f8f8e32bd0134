"""``credentials``: sign and verify 1,000 eddsa-rdfc-2022 credentials, CPU per credential.

Beside two baselines measured in the same run on the same documents: the bare Ed25519
sign/verify of 64 bytes (what the cryptography costs), and the bare pyld RDFC-1.0
canonicalisation of the document (what one canonicalisation costs). A proof canonicalises
the document and the proof options, so canonicalisation is expected to dominate: the result
says by how much. Verification is measured cold (the canonical forms the signing remembered
are forgotten first, as for a verifier that did not sign them) and, as an extra, for documents
signed in the same process. The document loader is shared, so every context is parsed once
and pyld's resolved-context cache is warm after the first credential.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ed25519
from pyld import jsonld

from benchmarks._report import Result, progress
from openbackpack.credentials import (
    DocumentLoader,
    KeyPair,
    sign_data_integrity,
    verify_data_integrity_proof,
)
from openbackpack.credentials._canon import forget_canonical_forms
from openbackpack.models.ob3 import OB3_CONTEXT, VC2_CONTEXT

__all__ = ["run"]

CREDENTIALS: Final = 1_000
_METHOD: Final = "did:web:badges.example.org:ob:issuers:1#key-1"


def _credential(number: int) -> dict[str, Any]:
    return {
        "@context": [VC2_CONTEXT, OB3_CONTEXT],
        "id": f"https://badges.example.org/ob3/credentials/{number}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"Badge {number}",
        "issuer": {
            "id": "did:web:badges.example.org:ob:issuers:1",
            "type": ["Profile"],
            "name": "Example University",
        },
        "validFrom": "2024-05-01T10:30:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": f"sha256${number:064x}",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": "pepper",
                }
            ],
            "achievement": {
                "id": "https://badges.example.org/ob/badges/1",
                "type": ["Achievement"],
                "name": "Badge",
                "description": "Awarded for the example.",
                "criteria": {"narrative": "Do the *example*."},
            },
        },
    }


def _cpu_per_item(items: list[Any], work: Callable[[Any], object]) -> float:
    start = time.process_time()
    for item in items:
        work(item)
    return (time.process_time() - start) / len(items) * 1e6


def run() -> list[Result]:
    """Measure signing and verifying against bare Ed25519 and bare canonicalisation."""
    loader = DocumentLoader()
    key = KeyPair.generate()
    assert isinstance(key.private_key, ed25519.Ed25519PrivateKey)
    documents = [_credential(n) for n in range(CREDENTIALS)]
    created = datetime(2024, 5, 1, tzinfo=UTC)
    # Warm-up: contexts parsed and cached before anything is timed.
    sign_data_integrity(documents[0], key, _METHOD, loader, created=created)
    progress(f"credentials: signing {CREDENTIALS}")
    signed: list[dict[str, Any]] = []
    sign_us = _cpu_per_item(
        documents,
        lambda d: signed.append(sign_data_integrity(d, key, _METHOD, loader, created=created)),
    )
    progress(f"credentials: verifying {CREDENTIALS}")

    def verify(d: dict[str, Any]) -> None:
        verify_data_integrity_proof(d, d["proof"][0], key.public_key, loader)

    # Cold: a verifier that did not sign them (a host) canonicalises every document afresh.
    forget_canonical_forms()
    verify_us = _cpu_per_item(signed, verify)
    # Remembered: the signer verifying what it signed (the move's proof), canonical forms kept.
    for document in signed[-100:]:
        sign_data_integrity(
            {k: v for k, v in document.items() if k != "proof"}, key, _METHOD, loader,
            created=created,
        )  # fmt: skip
    remembered_us = _cpu_per_item(signed[-100:], verify)
    progress("credentials: baselines")
    options = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader}
    canon_us = _cpu_per_item(
        [copy.deepcopy(d) for d in documents], lambda d: jsonld.normalize(d, options)
    )
    proofs = [
        {**{k: v for k, v in d["proof"][0].items() if k != "proofValue"}, "@context": d["@context"]}
        for d in signed
    ]
    proof_canon_us = _cpu_per_item(proofs, lambda p: jsonld.normalize(p, options))
    message = b"\x01" * 64
    private = key.private_key
    public = private.public_key()
    ed_sign_us = _cpu_per_item(documents, lambda _: private.sign(message))
    signature = private.sign(message)
    ed_verify_us = _cpu_per_item(documents, lambda _: public.verify(signature, message))
    shared = {
        "credentials": CREDENTIALS,
        "bare_canonicalisation_us": canon_us,
        "bare_ed25519_sign_us": ed_sign_us,
        "bare_ed25519_verify_us": ed_verify_us,
        "bare_proof_options_canonicalisation_us": proof_canon_us,
        "canonicalisation_share_of_sign": (canon_us + proof_canon_us) / sign_us,
        "canonicalisation_share_of_verify": (canon_us + proof_canon_us) / verify_us,
        "cached": "shared DocumentLoader (contexts read once) and pyld's resolved-context cache",
    }
    return [
        Result(
            name="credentials_sign",
            openbackpack=sign_us,
            baseline=canon_us,
            unit="CPU us/credential",
            ratio=sign_us / canon_us,
            target="<= 2.5 x one bare canonicalisation (a proof canonicalises twice)",
            met=sign_us <= 2.5 * canon_us,
            extra={**shared, "of_bare_ed25519": sign_us / ed_sign_us},
        ),
        Result(
            name="credentials_verify",
            openbackpack=verify_us,
            baseline=canon_us,
            unit="CPU us/credential",
            ratio=verify_us / canon_us,
            target="<= 2.5 x one bare canonicalisation (a proof canonicalises twice)",
            met=verify_us <= 2.5 * canon_us,
            extra={
                **shared,
                "of_bare_ed25519": verify_us / ed_verify_us,
                "verify_of_documents_signed_here_us": remembered_us,
            },
        ),
    ]
