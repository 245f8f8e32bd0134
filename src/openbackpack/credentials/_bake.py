"""Baking: a credential carried inside its badge image (PNG ``iTXt`` chunk, SVG element).

* PNG: an ``iTXt`` chunk whose keyword is ``openbadgecredential`` (OB 3.0) or ``openbadges``
  (OB 2.0), uncompressed, holding the JSON or the compact JWT. pypng reads and writes the
  chunks (and their CRCs); only the iTXt payload layout is handled here.
* SVG: ``<openbadges:credential>`` in ``https://purl.imsglobal.org/ob/v3p0`` (3.0) or
  ``<openbadges:assertion>`` in ``http://openbadges.org`` (2.0), the JSON as CDATA or a
  JWT in the ``verify`` attribute.

A baked image holds one credential: baking replaces any earlier one.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Final, Literal

import png

from openbackpack._exceptions import InvalidCredentialError

__all__ = ["Baked", "bake_png", "bake_svg", "unbake", "unbake_png", "unbake_svg"]

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
OB3_KEYWORD: Final = b"openbadgecredential"
OB2_KEYWORD: Final = b"openbadges"
OB3_SVG_NS: Final = "https://purl.imsglobal.org/ob/v3p0"
OB2_SVG_NS: Final = "http://openbadges.org"

Version = Literal["3.0", "2.0"]


@dataclass(frozen=True, slots=True)
class Baked:
    """What an image carries: the payload text (JSON or JWT) and its Open Badges version."""

    payload: str
    version: Version

    @property
    def is_jwt(self) -> bool:
        """Whether the payload is a compact JWS rather than JSON."""
        return not self.payload.lstrip().startswith("{")


def _payload(credential: dict[str, Any] | str) -> str:
    return credential if isinstance(credential, str) else json.dumps(credential)


def _itxt(keyword: bytes, text: str) -> bytes:
    # keyword, NUL, compression flag 0, method 0, empty language tag, NUL, empty
    # translated keyword, NUL, then the UTF-8 text (PNG 1.2 §11.3.4.5).
    return keyword + b"\x00\x00\x00\x00\x00" + text.encode("utf-8")


def _read_itxt(data: bytes) -> tuple[bytes, str] | None:
    keyword, _, rest = data.partition(b"\x00")
    if len(rest) < 2 or rest[0] != 0:
        return None  # compressed iTXt: not what the baking specifications write
    _language, _, rest = rest[2:].partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    return keyword, text.decode("utf-8")


def _chunks(image: bytes) -> list[tuple[bytes, bytes]]:
    try:
        return list(png.Reader(bytes=image).chunks())
    except (png.FormatError, png.ChunkError) as exc:
        raise InvalidCredentialError(f"not a readable PNG: {exc}") from None


def bake_png(image: bytes, credential: dict[str, Any] | str, *, version: Version = "3.0") -> bytes:
    """Return ``image`` with the credential baked in (replacing any earlier one).

    Raises:
        InvalidCredentialError: the image is not a PNG.
    """
    keyword = OB3_KEYWORD if version == "3.0" else OB2_KEYWORD
    kept = []
    for kind, data in _chunks(image):
        parsed = _read_itxt(data) if kind == b"iTXt" else None
        if parsed is not None and parsed[0] in (OB3_KEYWORD, OB2_KEYWORD):
            continue
        kept.append((kind, data))
    # After IHDR: readers that stop at the first IDAT still find it.
    kept.insert(1, (b"iTXt", _itxt(keyword, _payload(credential))))
    out = io.BytesIO()
    png.write_chunks(out, kept)
    return out.getvalue()


def unbake_png(image: bytes) -> Baked:
    """The credential baked into a PNG.

    Raises:
        InvalidCredentialError: not a PNG, or no baked credential in it.
    """
    for kind, data in _chunks(image):
        if kind != b"iTXt":
            continue
        parsed = _read_itxt(data)
        if parsed is not None and parsed[0] == OB3_KEYWORD:
            return Baked(parsed[1], "3.0")
        if parsed is not None and parsed[0] == OB2_KEYWORD:
            return Baked(parsed[1], "2.0")
    raise InvalidCredentialError("the PNG carries no baked credential")


_SVG_START: Final = re.compile(rb"<svg\b[^>]*>", re.IGNORECASE)
_BAKED: Final = re.compile(rb"<openbadges:(credential|assertion)\b.*?(/>|</openbadges:\1>)", re.S)


def bake_svg(image: bytes, credential: dict[str, Any] | str, *, version: Version = "3.0") -> bytes:
    """Return the SVG with the credential element added (replacing any earlier one).

    Raises:
        InvalidCredentialError: not an SVG.
    """
    _parse_svg(image)  # refuse what is not a well-formed SVG before editing it
    text = _BAKED.sub(b"", image)
    start = _SVG_START.search(text)
    if start is None:
        raise InvalidCredentialError("not an SVG: no <svg> element")
    namespace = OB3_SVG_NS if version == "3.0" else OB2_SVG_NS
    name = "credential" if version == "3.0" else "assertion"
    payload = _payload(credential)
    if isinstance(credential, str):
        element = f'<openbadges:{name} xmlns:openbadges="{namespace}" verify="{payload}"/>'
    else:
        safe = payload.replace("]]>", "]]]]><![CDATA[>")
        element = (
            f'<openbadges:{name} xmlns:openbadges="{namespace}"><![CDATA[{safe}]]>'
            f"</openbadges:{name}>"
        )
    end = start.end()
    return text[:end] + element.encode("utf-8") + text[end:]


def _parse_svg(image: bytes) -> ET.Element:
    if b"<!ENTITY" in image:
        # Entity expansion is how XML bombs work; badge images have no use for it.
        raise InvalidCredentialError("SVG with entity declarations is refused")
    try:
        return ET.fromstring(image)  # noqa: S314 - entities refused above
    except ET.ParseError as exc:
        raise InvalidCredentialError(f"not a readable SVG: {exc}") from None


def unbake_svg(image: bytes) -> Baked:
    """The credential baked into an SVG.

    Raises:
        InvalidCredentialError: not an SVG, or no baked credential in it.
    """
    root = _parse_svg(image)
    for namespace, name, version in (
        (OB3_SVG_NS, "credential", "3.0"),
        (OB2_SVG_NS, "assertion", "2.0"),
    ):
        element = root.find(f".//{{{namespace}}}{name}")
        if element is None:
            continue
        verify = element.get("verify")
        text = (element.text or "").strip()
        payload = text or (verify or "")
        if payload:
            return Baked(payload, version)  # type: ignore[arg-type]
    raise InvalidCredentialError("the SVG carries no baked credential")


def unbake(image: bytes) -> Baked:
    """The credential baked into a PNG or SVG image (told apart by content, not name).

    Raises:
        InvalidCredentialError: neither a PNG nor an SVG, or nothing baked in it.
    """
    if image.startswith(PNG_SIGNATURE):
        return unbake_png(image)
    if b"<svg" in image[:4096].lower():
        return unbake_svg(image)
    raise InvalidCredentialError("the image is neither a PNG nor an SVG")
