"""``openbackpack reissue``: this site's own 2.0 awards as signed Open Badges 3.0 credentials."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from openbackpack.cli._context import open_store
from openbackpack.cli._issuer import BaseUrlOption
from openbackpack.cli._output import out
from openbackpack.issuer import IssuerUrls

__all__ = ["ReissueFormat", "reissue"]


class ReissueFormat(StrEnum):
    """What ``reissue`` makes of each award: a 3.0 credential as JSON or as a VC-JWT."""

    OB3 = "ob3"
    OB3_JWT = "ob3-jwt"


def reissue(
    ctx: typer.Context,
    fmt: Annotated[
        ReissueFormat,
        typer.Option(
            "--format",
            help="ob3 (JSON, eddsa-rdfc-2022) or ob3-jwt (a VC-JWT).",
        ),
    ] = ReissueFormat.OB3,
    base_url: BaseUrlOption = None,
    badge: Annotated[
        int | None, typer.Option("--badge", help="Only the awards of this badge class.")
    ] = None,
    award_hashes: Annotated[
        list[str] | None,
        typer.Option("--award", metavar="HASH", help="Only this award (repeatable)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write one file per award (HASH.json or HASH.jwt) here."
        ),
    ] = None,
) -> None:
    """Re-issue this site's 2.0 awards as signed 3.0 credentials, the 2.0 assertion as evidence.

    So that they outlive this site's hosted URLs. Revoked awards are skipped.
    """
    if not base_url:
        raise typer.BadParameter("re-issuing needs --base-url (the hosted documents' URL)")
    jwt = fmt is ReissueFormat.OB3_JWT
    with open_store(ctx) as store, store.transaction() as tx:
        if award_hashes:
            chosen = [tx.awards.get(award_hash) for award_hash in award_hashes]
        else:
            chosen = tx.awards.list(badge_class_id=badge)
        from openbackpack.issuer import CredentialIssuer  # the signing stack, when signing

        issuer = CredentialIssuer(tx, IssuerUrls(base_url))
        signed = {
            a.hash: issuer.reissue(a.hash, fmt="jwt" if jwt else "json")
            for a in chosen
            if not a.revoked
        }
    skipped = len(chosen) - len(signed)
    if output is None:
        if jwt:
            for token in signed.values():
                print(token)
        else:
            print(json.dumps(list(signed.values()), indent=2, ensure_ascii=False))
        return
    output.mkdir(parents=True, exist_ok=True)
    for award_hash, credential in signed.items():
        path = output / f"{award_hash}.{'jwt' if jwt else 'json'}"
        text = credential if isinstance(credential, str) else json.dumps(credential, indent=2)
        path.write_text(text + "\n", encoding="utf-8")
    out.print(
        f"re-issued {len(signed)} award(s) into {output}"
        + (f"; {skipped} revoked award(s) skipped" if skipped else ""),
        markup=False,
    )
