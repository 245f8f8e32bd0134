"""The issuer commands: ``issuer``, ``badge``, ``award`` and ``revoke``.

``issuer add|list|serve``, ``badge add|list|endorse``, ``award`` and ``revoke`` are thin
shells over the store's registry (``tx.issuers``, ``tx.badge_classes``, ``tx.awards``); each
prints a rich table, or JSON with ``--json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from openbackpack.cli._context import open_store
from openbackpack.cli._keys import keys_app
from openbackpack.issuer import IssuerUrls
from openbackpack.serve import base_url_of, bind_socket, serve_forever
from openbackpack.store import Alignment, Award, BadgeClass, Evidence, Issuer, Store

__all__ = ["AwardFormat", "BaseUrlOption", "register"]

BASE_URL_ENV = "OPENBACKPACK_ISSUER_URL"

issuer_app = typer.Typer(help="Issuers of the local badge registry.", no_args_is_help=True)
badge_app = typer.Typer(help="Badge classes of the local badge registry.", no_args_is_help=True)

out = Console(highlight=False, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar=BASE_URL_ENV,
        help="Public base URL of the hosted documents (for printed URLs and ids).",
    ),
]


class AwardFormat(StrEnum):
    """What ``award`` prints: a summary, or the award's signed Open Badges 3.0 credential."""

    TEXT = "text"
    OB3 = "ob3"
    OB3_JWT = "ob3-jwt"


def register(app: typer.Typer) -> None:
    """Add the issuer commands to the root ``openbackpack`` command."""
    issuer_app.add_typer(keys_app, name="keys")
    app.add_typer(issuer_app, name="issuer")
    app.add_typer(badge_app, name="badge")
    app.command("award")(award)
    app.command("revoke")(revoke)


def _store(ctx: typer.Context) -> Store:
    return open_store(ctx)


def _read_image(path: Path | None) -> bytes | None:
    return None if path is None else path.read_bytes()


def _print_json(value: object) -> None:
    # print(), not rich: JSON must reach the pipe exactly, with no wrapping or markup.
    print(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    return table


def _issuer_json(issuer: Issuer) -> dict[str, Any]:
    data = asdict(issuer)
    data["image"] = issuer.image is not None
    return data


def _badge_json(badge: BadgeClass) -> dict[str, Any]:
    data = asdict(badge)
    data["image"] = len(badge.image)
    return data


def _award_json(award: Award, urls: IssuerUrls | None) -> dict[str, Any]:
    data = asdict(award)
    if urls is not None:
        data["assertion_url"] = urls.assertion(award.hash)
    return data


@issuer_app.command("add")
def issuer_add(
    ctx: typer.Context,
    url: Annotated[str, typer.Option(help="The issuer's home page (http or https).")],
    name: Annotated[
        str | None,
        typer.Option(help="The issuer's name (default: the site's default_issuer_name)."),
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(
            help="The issuer's contact email (default: the site's default_issuer_contact)."
        ),
    ] = None,
    description: Annotated[str | None, typer.Option(help="A short description.")] = None,
    image: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="A PNG or SVG image.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add an issuer to the registry."""
    with _store(ctx) as store, store.transaction() as tx:
        issuer = tx.issuers.create(
            name, url, email, description=description, image=_read_image(image)
        )
    if as_json:
        _print_json(_issuer_json(issuer))
    else:
        out.print(f"issuer {issuer.id} added: {issuer.name}", markup=False)


@issuer_app.command("list")
def issuer_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the registry's issuers."""
    with _store(ctx) as store, store.transaction() as tx:
        issuers = tx.issuers.list()
    if as_json:
        _print_json([_issuer_json(issuer) for issuer in issuers])
        return
    rows = [(i.id, i.name, i.url, i.email, i.image_type or "") for i in issuers]
    out.print(_table("Issuers", ("id", "name", "url", "email", "image"), rows))


@issuer_app.command("serve")
def issuer_serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 0,
    base_url: BaseUrlOption = None,
) -> None:
    """Serve the hosted Open Badges documents until interrupted (Ctrl-C)."""
    with _store(ctx) as store:
        sock = bind_socket(host, port)
        listening = base_url_of(sock)
        from openbackpack.issuer import create_issuer_app  # the web stack, when serving

        app = create_issuer_app(store, base_url or listening)
        out.print(f"serving Open Badges documents at {base_url or listening}", markup=False)
        if base_url:
            out.print(f"listening on {listening}", markup=False)
        serve_forever(app, sock)


@badge_app.command("add")
def badge_add(
    ctx: typer.Context,
    issuer: Annotated[int, typer.Option(help="Id of the issuer awarding the badge.")],
    name: Annotated[str, typer.Option(help="The badge's name.")],
    description: Annotated[str, typer.Option(help="What the badge means.")],
    image: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="The badge image: PNG or SVG.")
    ],
    criteria_url: Annotated[str | None, typer.Option(help="URL of the criteria page.")] = None,
    criteria: Annotated[str | None, typer.Option(help="Criteria narrative (Markdown).")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag (repeatable).")] = None,
    alignment: Annotated[
        list[str] | None,
        typer.Option(help="An alignment as 'NAME=URL' (repeatable)."),
    ] = None,
    related: Annotated[list[int] | None, typer.Option(help="Id of a related badge.")] = None,
    version: Annotated[str | None, typer.Option(help="The badge's version.")] = None,
    language: Annotated[str | None, typer.Option(help="Language tag, e.g. en or pt-BR.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a badge class to the registry."""
    alignments = [_parse_alignment(text) for text in alignment or []]
    with _store(ctx) as store, store.transaction() as tx:
        badge = tx.badge_classes.create(
            issuer,
            name,
            description,
            image.read_bytes(),
            criteria_url=criteria_url,
            criteria_narrative=criteria,
            alignments=alignments,
            tags=tag or [],
            related=related or [],
            version=version,
            language=language,
        )
    if as_json:
        _print_json(_badge_json(badge))
    else:
        out.print(f"badge {badge.id} added: {badge.name}", markup=False)


@badge_app.command("list")
def badge_list(
    ctx: typer.Context,
    issuer: Annotated[int | None, typer.Option(help="Only this issuer's badges.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the registry's badge classes."""
    with _store(ctx) as store, store.transaction() as tx:
        badges = tx.badge_classes.list(issuer_id=issuer)
    if as_json:
        _print_json([_badge_json(badge) for badge in badges])
        return
    rows = [(b.id, b.issuer_id, b.name, b.image_type, ", ".join(b.tags)) for b in badges]
    out.print(_table("Badge classes", ("id", "issuer", "name", "image", "tags"), rows))


@badge_app.command("endorse")
def badge_endorse(
    ctx: typer.Context,
    badge: Annotated[int, typer.Argument(help="Id of the badge class endorsed.")],
    by: Annotated[int, typer.Option("--by", help="Id of the endorsing issuer.")],
    comment: Annotated[str | None, typer.Option(help="The endorsement (Markdown).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Record an issuer's endorsement of a badge class."""
    with _store(ctx) as store, store.transaction() as tx:
        endorsement = tx.badge_classes.endorse(badge, by, comment)
    if as_json:
        _print_json(asdict(endorsement))
    else:
        out.print(f"endorsement {endorsement.id} added to badge {badge}", markup=False)


def award(
    ctx: typer.Context,
    badge: Annotated[int, typer.Argument(help="Id of the badge class to award.")],
    email: Annotated[str, typer.Argument(help="The recipient's email address.")],
    expires: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"],
            help="Expiry (ISO 8601; UTC unless a zone is given).",
        ),
    ] = None,
    evidence: Annotated[
        list[str] | None, typer.Option(help="URL of evidence (repeatable).")
    ] = None,
    narrative: Annotated[str | None, typer.Option(help="Evidence narrative (Markdown).")] = None,
    salt: Annotated[
        str | None, typer.Option(help="Salt for hashing the email (default: the site's).")
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option(
            help="The platform's user the award is made to: they may add it to a backpack "
            "with another verified email."
        ),
    ] = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
    fmt: Annotated[
        AwardFormat,
        typer.Option(
            "--format",
            help="text (default), or print the award's signed Open Badges 3.0 credential: "
            "ob3 (JSON, eddsa-rdfc-2022) or ob3-jwt (a VC-JWT). ob3 needs --base-url.",
        ),
    ] = AwardFormat.TEXT,
) -> None:
    """Award a badge class to an email address (and optionally to a platform user)."""
    if fmt is not AwardFormat.TEXT and not base_url:
        raise typer.BadParameter("an Open Badges 3.0 credential needs --base-url")
    pieces = [Evidence(url=url) for url in evidence or []]
    if narrative:
        pieces.append(Evidence(narrative=narrative))
    urls = IssuerUrls(base_url) if base_url else None
    with _store(ctx) as store, store.transaction() as tx:
        awarded = tx.awards.create(
            badge, email, salt=salt, expires=_aware(expires), evidence=pieces, owner=owner
        )
        if urls is not None and fmt is not AwardFormat.TEXT:
            from openbackpack.issuer import CredentialIssuer  # the signing stack, when signing

            signed = CredentialIssuer(tx, urls).credential(
                awarded.hash, fmt="jwt" if fmt is AwardFormat.OB3_JWT else "json"
            )
    if fmt is not AwardFormat.TEXT:
        if isinstance(signed, str):
            print(signed)
        else:
            _print_json(signed)
        return
    if as_json:
        _print_json(_award_json(awarded, urls))
        return
    out.print(f"awarded badge {badge}: {awarded.hash}", markup=False)
    if urls is not None:
        out.print(urls.assertion(awarded.hash), markup=False)


def revoke(
    ctx: typer.Context,
    award_hash: Annotated[str, typer.Argument(metavar="HASH", help="The award's hash.")],
    reason: Annotated[str, typer.Option(help="Why the award is revoked (published).")],
    as_json: JsonOption = False,
) -> None:
    """Revoke an award: its assertion then answers 410 with the reason."""
    with _store(ctx) as store, store.transaction() as tx:
        revoked = tx.awards.revoke(award_hash, reason)
    if as_json:
        _print_json(_award_json(revoked, None))
    else:
        out.print(f"award {revoked.hash} revoked", markup=False)


def _parse_alignment(text: str) -> Alignment:
    name, equals, url = text.partition("=")
    if not equals or not name.strip() or not url.strip():
        raise typer.BadParameter(f"{text!r} is not NAME=URL", param_hint="--alignment")
    return Alignment(name.strip(), url.strip())


def _aware(moment: datetime | None) -> datetime | None:
    # A date typed without a zone means UTC: badges are read worldwide.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
