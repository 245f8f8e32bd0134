"""The ``credential`` commands: verify, bake and unbake Open Badges credentials.

``verify`` exits 0 when the credential is valid, 1 when it is invalid, 3 when some check could
not be made (a status list or DID document that cannot be fetched, an unsupported suite).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import httpx2
import typer
from rich.console import Console

from openbackpack import credentials
from openbackpack._exceptions import DocumentUnavailableError, InvalidCredentialError

__all__ = ["credential_app", "http_fetch"]

credential_app = typer.Typer(
    help="Verify, bake and unbake Open Badges credentials.", no_args_is_help=True
)
out = Console(highlight=False, soft_wrap=True)

_MAX_DOCUMENT: Final = 2 * 1024 * 1024
_MARKS: Final = {
    credentials.CheckOutcome.PASSED: "ok",
    credentials.CheckOutcome.FAILED: "FAIL",
    credentials.CheckOutcome.NOT_CHECKED: "??",
}


def http_fetch(url: str) -> Any:
    """Fetch a JSON document (or a JWT) over HTTP(S); any failure is "unavailable"."""
    try:
        response = httpx2.get(
            url,
            timeout=10.0,
            follow_redirects=True,
            headers={"Accept": "application/ld+json, application/json, */*;q=0.5"},
        )
    except httpx2.HTTPError as exc:
        raise DocumentUnavailableError(f"{url} cannot be fetched: {exc}", url=url) from None
    # 410 Gone is how a hosted OB 2.0 assertion says it was revoked; its body says why.
    if response.status_code not in (200, 410) or len(response.content) > _MAX_DOCUMENT:
        raise DocumentUnavailableError(
            f"{url} answered {response.status_code} ({len(response.content)} bytes)", url=url
        )
    text = response.text.strip()
    try:
        return json.loads(text)
    except ValueError:
        return text  # a VC-JWT served as text


def _print_report(report: credentials.VerificationReport, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    out.print(f"{report.outcome.value} ({report.kind})", markup=False)
    for check in report.checks:
        out.print(f"  {_MARKS[check.outcome]:>4}  {check.name}: {check.reason}", markup=False)
    for warning in report.warnings:
        out.print(f"  warn  {warning}", markup=False)


def _source(text: str) -> str | Path:
    return text if text.startswith(("https://", "http://")) else Path(text)


@credential_app.command("verify")
def credential_verify(
    source: Annotated[str, typer.Argument(metavar="FILE|URL", help="Credential, JWT or image.")],
    recipient: Annotated[
        str | None, typer.Option(help="Check that the credential was awarded to this email.")
    ] = None,
    document_map: Annotated[
        Path | None,
        typer.Option(
            "--document-map",
            help="JSON object of URL (or prefix ending in /) -> local file or folder; "
            "with it nothing is fetched from the network.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Verify an Open Badges 3.0 credential: exit 0 valid, 1 invalid, 3 not fully checked."""
    if document_map is not None:
        loader = credentials.DocumentLoader(credentials.load_document_map(document_map))
    else:
        loader = credentials.DocumentLoader(fetch=http_fetch)
    report = credentials.verify_credential(_source(source), loader=loader, recipient=recipient)
    _print_report(report, as_json)
    raise typer.Exit(report.outcome.exit_code)


@credential_app.command("bake")
def credential_bake(
    image: Annotated[Path, typer.Argument(help="The badge image (PNG or SVG).")],
    credential: Annotated[Path, typer.Argument(help="The credential: JSON or a compact JWT.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the image.")],
    ob2: Annotated[
        bool, typer.Option("--ob2", help="Bake an Open Badges 2.0 assertion instead.")
    ] = False,
) -> None:
    """Bake a credential into a PNG (iTXt chunk) or SVG (credential element)."""
    data = image.read_bytes()
    text = credential.read_text(encoding="utf-8").strip()
    payload: dict[str, Any] | str = json.loads(text) if text.startswith("{") else text
    version: Literal["3.0", "2.0"] = "2.0" if ob2 else "3.0"
    if data.startswith(b"\x89PNG"):
        baked = credentials.bake_png(data, payload, version=version)
    elif b"<svg" in data[:4096].lower():
        baked = credentials.bake_svg(data, payload, version=version)
    else:
        raise InvalidCredentialError(f"{image} is neither a PNG nor an SVG")
    output.write_bytes(baked)
    out.print(f"baked into {output}", markup=False)


@credential_app.command("unbake")
def credential_unbake(
    image: Annotated[Path, typer.Argument(help="A baked PNG or SVG.")],
) -> None:
    """Print the credential baked into a PNG or SVG (JSON or a compact JWT)."""
    print(credentials.unbake(image.read_bytes()).payload)
