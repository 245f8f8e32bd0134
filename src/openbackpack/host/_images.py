"""Badge images: reading uploads and data URIs, checking PNG/SVG by content, baking.

Baking follows Open Badges Baking 1.0: a PNG carries the assertion in an uncompressed
``iTXt`` chunk with keyword ``openbadges`` (placed right after IHDR, so streaming readers find
it early); an SVG carries an ``<openbadges:assertion>`` element right after ``<svg>``.
Unbaking accepts the legacy ``tEXt`` chunk (a URL) and any namespace prefix in SVG, and caps
every size it reads.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import zlib
from dataclasses import dataclass
from typing import Final

from openbackpack.host._body import Upload

__all__ = [
    "ImageError",
    "StoredImage",
    "bake",
    "parse_image_input",
    "sniff",
    "unbake",
]

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
PNG: Final = "image/png"
SVG: Final = "image/svg+xml"
_KEYWORD: Final = b"openbadges"
_MAX_CHUNK: Final = 4 * 1024 * 1024
_MAX_TEXT: Final = 1024 * 1024
_OTHER_IMAGES: Final = (b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF", b"BM", b"II*\x00")
_DATA_URI: Final = re.compile(
    r"^data:([\w.+-]+/[\w.+-]+)?((?:;[\w.+-]+=[^;,]*)*)(;base64)?,(.*)$", re.S
)
_KNOWN_TYPES: Final = frozenset({PNG, SVG, "image/jpeg", "image/gif", "image/webp", "image/bmp"})
_SVG_PROLOGUE: Final = re.compile(
    r"^(?:\s+|<\?xml[^>]*\?>|<!--.*?-->|<!DOCTYPE\s+svg[^\[>]*>)*", re.S | re.I
)
_SVG_OPEN: Final = re.compile(r"<svg\b[^>]*>", re.I)
_SVG_ASSERTION: Final = re.compile(
    r"<(?:[\w.-]+:)?assertion\b([^>]*?)(/?)>(?:\s*<!\[CDATA\[(.*?)\]\]>)?", re.S | re.I
)
_VERIFY_ATTR: Final = re.compile(r"""\bverify\s*=\s*(["'])(.*?)\1""", re.S)


class ImageError(Exception):
    """An image input Badgr would refuse; ``message`` is Badgr's field error text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class StoredImage:
    """Image bytes and their checked media type (PNG or SVG)."""

    data: bytes
    media_type: str


def sniff(data: bytes) -> str | None:
    """Return ``image/png`` or ``image/svg+xml`` when the bytes are one, else ``None``."""
    if data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        return PNG
    text = _svg_text(data)
    if text is not None:
        head = _SVG_PROLOGUE.match(text)
        rest = text[head.end() if head else 0 :]
        if rest[:4].lower() == "<svg" and "<!entity" not in text[:4096].lower():
            return SVG
    return None


def _svg_text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def parse_image_input(value: object) -> StoredImage | None:
    """Read an ``image`` field: a data URI, an upload, or a URL (ignored, as Badgr does).

    Returns ``None`` when no image was given (absent, empty, or an http(s) URL).

    Raises:
        ImageError: the data is not a PNG or SVG image.
    """
    if value is None or value == "":
        return None
    if isinstance(value, Upload):
        return _checked(value.data)
    if not isinstance(value, str):
        raise ImageError("Invalid image.")
    if value.startswith(("http://", "https://")):
        return None
    match = _DATA_URI.match(value.strip())
    if match is None:
        raise ImageError("Invalid image.")
    mime, _, is_base64, payload = match.groups()
    if mime and mime.lower() not in _KNOWN_TYPES:
        raise ImageError("Invalid MIME type")
    try:
        data = base64.b64decode(payload, validate=True) if is_base64 else payload.encode()
    except (binascii.Error, ValueError):
        raise ImageError("Invalid image.") from None
    return _checked(data)


def _checked(data: bytes) -> StoredImage:
    media_type = sniff(data)
    if media_type is not None:
        return StoredImage(data, media_type)
    if data.startswith((*_OTHER_IMAGES, PNG_SIGNATURE)):
        raise ImageError("Invalid PNG")
    raise ImageError("Invalid image.")


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks: list[tuple[bytes, bytes]] = []
    position = len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        if length > _MAX_CHUNK or position + 12 + length > len(data):
            raise ImageError("Invalid PNG")
        chunks.append((kind, data[position + 8 : position + 8 + length]))
        position += 12 + length
        if kind == b"IEND":
            break
    return chunks


def _is_badge_chunk(kind: bytes, payload: bytes) -> bool:
    return kind in (b"iTXt", b"tEXt") and payload.split(b"\x00", 1)[0] == _KEYWORD


def bake(image: StoredImage, text: str, verify_url: str) -> bytes:
    """Embed ``text`` (the assertion JSON) in a PNG or SVG, replacing any earlier badge."""
    if image.media_type == PNG:
        chunks = [c for c in _png_chunks(image.data) if not _is_badge_chunk(*c)]
        itxt = _KEYWORD + b"\x00\x00\x00\x00\x00" + text.encode("utf-8")
        out = [PNG_SIGNATURE, _chunk(*chunks[0]), _chunk(b"iTXt", itxt)]
        out.extend(_chunk(kind, payload) for kind, payload in chunks[1:])
        return b"".join(out)
    return _bake_svg(image.data.decode("utf-8-sig"), text, verify_url).encode("utf-8")


def _bake_svg(svg: str, text: str, verify_url: str) -> str:
    svg = _SVG_ASSERTION.sub("", svg)
    opening = _SVG_OPEN.search(svg)
    if opening is None:  # pragma: no cover - sniff() already required an <svg> element
        raise ImageError("Invalid image.")
    tag = opening.group(0)
    if "xmlns:openbadges" not in tag:
        tag = tag[:-1].rstrip("/") + ' xmlns:openbadges="http://openbadges.org">'
    safe = text.replace("]]>", "]]]]><![CDATA[>")
    verify = verify_url.replace("&", "&amp;").replace('"', "&quot;")
    element = f'<openbadges:assertion verify="{verify}"><![CDATA[{safe}]]></openbadges:assertion>'
    return svg[: opening.start()] + tag + element + svg[opening.end() :]


def unbake(data: bytes) -> str | None:
    """Return the badge text of a baked PNG or SVG (JSON, a URL or a JWS), or ``None``."""
    kind = sniff(data)
    if kind == PNG:
        return _unbake_png(data)
    if kind == SVG:
        return _unbake_svg(data.decode("utf-8-sig"))
    return None


def _unbake_png(data: bytes) -> str | None:
    for kind, payload in _png_chunks(data):
        if kind == b"tEXt" and _is_badge_chunk(kind, payload):
            return payload.split(b"\x00", 1)[1].decode("latin-1")
        if kind == b"iTXt" and _is_badge_chunk(kind, payload):
            return _itxt_text(payload)
    return None


def _itxt_text(payload: bytes) -> str:
    rest = payload[len(_KEYWORD) + 1 :]
    if len(rest) < 2:
        raise ImageError("Invalid PNG")
    compressed, remainder = rest[0], rest[2:]
    # Skip the language tag and the translated keyword (both NUL-terminated).
    parts = remainder.split(b"\x00", 2)
    if len(parts) < 3:
        raise ImageError("Invalid PNG")
    text = parts[2]
    if compressed:
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(text, _MAX_TEXT)
        except zlib.error:
            raise ImageError("Invalid PNG") from None
        if inflater.unconsumed_tail:
            raise ImageError("Invalid PNG")
    return text.decode("utf-8", "replace")


def _unbake_svg(svg: str) -> str | None:
    match = _SVG_ASSERTION.search(svg)
    if match is None:
        return None
    attributes, _, body = match.groups()
    if body and body.strip():
        return body.strip()
    verify = _VERIFY_ATTR.search(attributes)
    return verify.group(2).replace("&amp;", "&").replace("&quot;", '"') if verify else None
