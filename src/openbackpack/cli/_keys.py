"""The ``issuer keys`` commands: list an issuer's signing keys and rotate them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from openbackpack.cli._context import open_store
from openbackpack.issuer import IssuerUrls
from openbackpack.store import KeyAlgorithmName

__all__ = ["Algorithm", "keys_app"]

keys_app = typer.Typer(
    help="Signing keys of issuers (Open Badges 3.0 credentials).", no_args_is_help=True
)
out = Console(highlight=False, soft_wrap=True)


class Algorithm(StrEnum):
    """The key types an issuer can have."""

    ED25519 = "Ed25519"
    P256 = "P-256"


AlgorithmOption = Annotated[
    Algorithm,
    typer.Option(
        "--algorithm",
        help="Key type: Ed25519 (Data Integrity and EdDSA JWTs) or P-256 (ES256 JWTs).",
    ),
]


@keys_app.command("list")
def keys_list(
    ctx: typer.Context,
    issuer: Annotated[int, typer.Argument(help="Id of the issuer.")],
) -> None:
    """List an issuer's keys, active and retired (public halves only)."""
    with open_store(ctx) as store, store.transaction() as tx:
        tx.issuers.get(issuer)
        keys = tx.issuer_keys.list(issuer)
    for key in keys:
        state = "active" if key.active else f"retired {key.retired_at:%Y-%m-%d}"
        out.print(f"key-{key.id}\t{key.algorithm}\t{key.public_multikey}\t{state}", markup=False)


@keys_app.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    issuer: Annotated[int, typer.Argument(help="Id of the issuer.")],
    algorithm: AlgorithmOption = Algorithm.ED25519,
) -> None:
    """Retire the issuer's active key and make a new one.

    The retired key stays in the DID document, so credentials it signed still verify.
    """
    alg: KeyAlgorithmName = "P-256" if algorithm is Algorithm.P256 else "Ed25519"
    with open_store(ctx) as store, store.transaction() as tx:
        # The URL layout does not matter for making a key; only the store is written.
        from openbackpack.issuer import CredentialIssuer  # the signing stack, when rotating

        record, _ = CredentialIssuer(tx, IssuerUrls("https://localhost")).rotate_key(issuer, alg)
    out.print(f"issuer {issuer}: new {alg} key key-{record.id} {record.public_multikey}")
