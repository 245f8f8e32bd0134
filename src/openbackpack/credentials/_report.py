"""The verification report: named checks, each passed, failed or not checkable (with why)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Check", "CheckOutcome", "Outcome", "VerificationReport"]


class CheckOutcome(StrEnum):
    """The result of one check."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_CHECKED = "could not be checked"


class Outcome(StrEnum):
    """The verdict on a whole credential (and the CLI exit code it gives: 0, 1, 3)."""

    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "could not be fully checked"

    @property
    def exit_code(self) -> int:
        """0 valid, 1 invalid, 3 could not be fully checked."""
        return {Outcome.VALID: 0, Outcome.INVALID: 1, Outcome.INDETERMINATE: 3}[self]


@dataclass(frozen=True, slots=True)
class Check:
    """One named check (``proof``, ``issuer key``, ``validity dates``, ``status``...)."""

    name: str
    outcome: CheckOutcome
    reason: str

    def to_json(self) -> dict[str, str]:
        """The check as JSON-ready data."""
        return {"name": self.name, "outcome": self.outcome.value, "reason": self.reason}


@dataclass(slots=True)
class VerificationReport:
    """What :func:`verify_credential` found, check by check.

    ``credential`` is the signed data the later checks read (the verified JSON of a proof or
    the payload of a verified JWT); it is None when nothing could be read. ``warnings`` name
    what is legal but outdated (VC 1.1, old contexts, legacy suite names).
    """

    kind: str = "unknown"
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    credential: dict[str, Any] | None = None

    def add(self, name: str, outcome: CheckOutcome, reason: str) -> Check:
        """Record a check and return it."""
        check = Check(name, outcome, reason)
        self.checks.append(check)
        return check

    def passed(self, name: str, reason: str) -> Check:
        """Record a passed check."""
        return self.add(name, CheckOutcome.PASSED, reason)

    def failed(self, name: str, reason: str) -> Check:
        """Record a failed check."""
        return self.add(name, CheckOutcome.FAILED, reason)

    def not_checked(self, name: str, reason: str) -> Check:
        """Record a check that could not be made."""
        return self.add(name, CheckOutcome.NOT_CHECKED, reason)

    def check(self, name: str) -> Check | None:
        """The (first) check of that name, if it was made."""
        return next((check for check in self.checks if check.name == name), None)

    @property
    def outcome(self) -> Outcome:
        """Invalid if any check failed; else indeterminate if any could not be made."""
        outcomes = {check.outcome for check in self.checks}
        if CheckOutcome.FAILED in outcomes or not self.checks:
            return Outcome.INVALID
        if CheckOutcome.NOT_CHECKED in outcomes:
            return Outcome.INDETERMINATE
        return Outcome.VALID

    @property
    def valid(self) -> bool:
        """Whether every check passed."""
        return self.outcome is Outcome.VALID

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "outcome": self.outcome.value,
            "kind": self.kind,
            "checks": [check.to_json() for check in self.checks],
            "warnings": list(self.warnings),
        }
