"""Baking and unbaking badge images (PNG iTXt, legacy tEXt, SVG), and content sniffing."""

from __future__ import annotations

import struct
import zlib

import pytest

from openbackpack.host._images import (
    PNG,
    SVG,
    ImageError,
    StoredImage,
    bake,
    parse_image_input,
    sniff,
    unbake,
)
from tests.host._helpers import PNG as PNG_BYTES
from tests.host._helpers import PNG_URI, SVG_URI
from tests.host._helpers import SVG as SVG_BYTES


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _with_chunk(kind: bytes, data: bytes) -> bytes:
    return PNG_BYTES[:33] + _chunk(kind, data) + PNG_BYTES[33:]


def test_png_bake_round_trip_replaces_an_earlier_badge() -> None:
    """A baked PNG carries exactly one openbadges iTXt chunk, right after IHDR."""
    once = bake(StoredImage(PNG_BYTES, PNG), '{"id": "one"}', "https://x/one")
    twice = bake(StoredImage(once, PNG), '{"id": "two"}', "https://x/two")
    assert unbake(twice) == '{"id": "two"}'
    assert twice.count(b"iTXt") == 1
    assert twice[37:41] == b"iTXt"
    assert sniff(twice) == PNG


def test_png_legacy_text_and_compressed_itxt_are_read() -> None:
    """A pre-1.0 tEXt chunk gives its URL; a compressed iTXt is inflated."""
    legacy = _with_chunk(b"tEXt", b"openbadges\x00https://old.example.org/a")
    assert unbake(legacy) == "https://old.example.org/a"
    packed = b"openbadges\x00\x01\x00\x00\x00" + zlib.compress(b'{"id": "z"}')
    assert unbake(_with_chunk(b"iTXt", packed)) == '{"id": "z"}'
    assert unbake(PNG_BYTES) is None


def test_svg_bake_round_trip_and_foreign_prefixes() -> None:
    """A baked SVG carries the JSON in CDATA; any prefix or a verify attribute is read."""
    baked = bake(StoredImage(SVG_BYTES, SVG), '{"id": "s"}', "https://x/s?a=1&b=2")
    assert b'xmlns:openbadges="http://openbadges.org"' in baked
    assert unbake(baked) == '{"id": "s"}'
    foreign = b'<svg xmlns="http://www.w3.org/2000/svg"><ob:assertion verify="https://x/v"/></svg>'
    assert unbake(foreign) == "https://x/v"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG_BYTES, PNG),
        (SVG_BYTES, SVG),
        (b"<!-- c --><svg/>", SVG),
        (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "b">]><svg/>', None),
        (b"\xff\xd8\xff", None),
        (b"<html/>", None),
    ],
)
def test_sniff_knows_png_and_svg_only(data: bytes, expected: str | None) -> None:
    """Only PNG and SVG (without entity declarations) are recognised."""
    assert sniff(data) == expected


def test_image_inputs() -> None:
    """Data URIs decode; URLs and empty values mean no image; broken PNG chunks are refused."""
    assert parse_image_input(PNG_URI) == StoredImage(PNG_BYTES, PNG)
    assert parse_image_input(SVG_URI) == StoredImage(SVG_BYTES, SVG)
    assert parse_image_input("https://example.org/a.png") is None
    assert parse_image_input("") is None
    with pytest.raises(ImageError):
        parse_image_input(123)
    with pytest.raises(ImageError):
        parse_image_input("data:image/png;base64,!!!")
    truncated = PNG_BYTES[:8] + struct.pack(">I", 10**9) + b"IHDR" + b"\0" * 20
    with pytest.raises(ImageError):
        unbake(truncated)
