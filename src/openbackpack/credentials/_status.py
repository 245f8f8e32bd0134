"""Status checks: BitstringStatusList entries and 1EdTech revocation lists.

A list that cannot be fetched, or whose own proof cannot be checked, gives "could not be
checked", never "not revoked".
"""

from __future__ import annotations

import base64
import binascii
import gzip
from collections.abc import Callable
from typing import Any

from openbackpack.credentials._loader import DocumentLoader
from openbackpack.credentials._report import CheckOutcome, Outcome, VerificationReport
from openbackpack.credentials._signed import CRED, STATUS, SignedGraph

__all__ = ["check_status", "decode_bitstring", "encode_bitstring"]

_REVOCATION_LIST = "https://purl.imsglobal.org/spec/vcrl/v1p0/context.json#1EdTechRevocationList"
_BITSTRING_ENTRY = STATUS + "BitstringStatusListEntry"

VerifyList = Callable[[dict[str, Any]], VerificationReport]


def encode_bitstring(bits: bytes) -> str:
    """The ``encodedList`` of a bitstring: GZIP, then multibase base64url (``u``), no padding."""
    packed = gzip.compress(bits, mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode_bitstring(encoded: str) -> bytes:
    """Decode an ``encodedList``; raises ValueError when it is not one."""
    text = encoded[1:] if encoded.startswith("u") else encoded
    try:
        return gzip.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, OSError, EOFError) as exc:
        raise ValueError(f"not a GZIP base64url bitstring: {exc}") from None


def _bit(bits: bytes, index: int) -> bool:
    # Bit 0 is the most significant bit of the first byte (Bitstring Status List §3.2).
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def check_status(
    report: VerificationReport,
    graph: SignedGraph,
    credential_id: str | None,
    loader: DocumentLoader,
    verify_list: VerifyList,
) -> None:
    """Add the ``status`` check for every status entry of the signed credential."""
    entries = graph.values(graph.root, CRED + "credentialStatus")
    if not entries:
        report.passed("status", "the credential names no status list")
        return
    for entry in entries:
        types = entry.get("@type", [])
        if _BITSTRING_ENTRY in types:
            _bitstring(report, graph, entry, loader, verify_list)
        elif _REVOCATION_LIST in types:
            _revocation_list(report, entry["@id"], credential_id, loader)
        else:
            report.not_checked("status", f"unsupported status type {types}")


def _bitstring(
    report: VerificationReport,
    graph: SignedGraph,
    entry: dict[str, Any],
    loader: DocumentLoader,
    verify_list: VerifyList,
) -> None:
    list_node = graph.first(entry, STATUS + "statusListCredential")
    index_text = graph.first(entry, STATUS + "statusListIndex")
    purpose = graph.first(entry, STATUS + "statusPurpose") or "revocation"
    url = list_node.get("@id") if isinstance(list_node, dict) else None
    try:
        index = int(str(index_text))
    except ValueError:
        report.failed("status", f"statusListIndex {index_text!r} is not a number")
        return
    if not isinstance(url, str):
        report.failed("status", "the status entry names no statusListCredential")
        return
    list_report = _list_report(report, url, loader, verify_list)
    if list_report is None:
        return
    if list_report.outcome is not Outcome.VALID:
        failed = [c for c in list_report.checks if c.outcome is not CheckOutcome.PASSED]
        why = "; ".join(f"{c.name}: {c.reason}" for c in failed)
        report.not_checked("status", f"the status list's own checks did not pass ({why})")
        return
    signed = list_report.credential or {}
    subject = signed.get("credentialSubject") or {}
    encoded = subject.get("encodedList") if isinstance(subject, dict) else None
    if not isinstance(encoded, str):
        report.not_checked("status", "the status list has no encodedList")
        return
    try:
        bits = decode_bitstring(encoded)
    except ValueError as exc:
        report.not_checked("status", str(exc))
        return
    if index >= len(bits) * 8:
        report.failed("status", f"index {index} is beyond the list's {len(bits) * 8} entries")
    elif _bit(bits, index):
        report.failed("status", f"{purpose}: bit {index} of {url} is set")
    else:
        report.passed("status", f"bit {index} of {url} is not set ({purpose})")


def _list_report(
    report: VerificationReport, url: str, loader: DocumentLoader, verify_list: VerifyList
) -> VerificationReport | None:
    """The list's own verification: kept from before, or fetched and checked now."""
    shared = loader.status_lists
    kept = shared.get(url) if shared is not None else None
    if kept is not None:
        return kept
    try:
        document = loader.get(url)
    except Exception as exc:  # unavailable, or a fetcher failing in a way of its own
        report.not_checked("status", f"the status list cannot be fetched: {exc}")
        return None
    if not isinstance(document, dict):
        report.not_checked("status", f"the status list at {url} is not a JSON object")
        return None
    list_report = loader.remember(("status list", url), lambda: verify_list(document))
    if shared is not None:
        shared.keep(url, list_report)
    return list_report


def _revocation_list(
    report: VerificationReport, url: str, credential_id: str | None, loader: DocumentLoader
) -> None:
    try:
        document = loader.get(url)
    except Exception as exc:
        report.not_checked("status", f"the 1EdTech revocation list cannot be fetched: {exc}")
        return
    revoked = document.get("revokedCredentials") if isinstance(document, dict) else None
    if not isinstance(revoked, list):
        report.not_checked("status", f"{url} is not a revocation list (no revokedCredentials)")
        return
    ids = {item.get("id") if isinstance(item, dict) else item for item in revoked}
    if credential_id is not None and credential_id in ids:
        report.failed("status", f"revoked: listed in the revocation list {url}")
    else:
        report.passed("status", f"not listed in the revocation list {url}")
