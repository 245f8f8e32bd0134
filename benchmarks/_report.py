"""One benchmark's outcome, printed as one JSON line."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Result", "progress", "rounded", "speedup"]


def rounded(value: Any, digits: int = 4) -> Any:
    """``value`` with floats (also inside dicts and lists) cut to ``digits`` significant digits."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        if value == 0 or not math.isfinite(value):
            return value
        return round(value, max(0, digits - 1 - math.floor(math.log10(abs(value)))))
    if isinstance(value, Mapping):
        return {key: rounded(item, digits) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(item, digits) for item in value]
    return value


def speedup(baseline: float, ours: float) -> float:
    """How many times less ``ours`` is than ``baseline`` (both lower-is-better)."""
    if ours <= 0:
        raise ValueError("a measurement must be greater than 0")
    return baseline / ours


def progress(message: str) -> None:
    """Tell the person running the benchmarks what is happening (stderr, not the results)."""
    print(f"[benchmarks] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Result:
    """What a benchmark measured, openbackpack beside its baseline.

    Attributes:
        name: the benchmark.
        openbackpack: openbackpack's measurement, in ``unit``.
        baseline: the baseline's, in the same unit.
        unit: what both are measured in.
        ratio: the comparison the target is about (each benchmark says which way round).
        target: the target, in words.
        met: whether the target was met; None when there is no target (only a report).
        extra: any further fields (floors, counts, conditions, the machine).
    """

    name: str
    openbackpack: float
    baseline: float
    unit: str
    ratio: float
    target: str
    met: bool | None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The fields in the documented order, then the extra ones, floats rounded."""
        ordered = {
            "name": self.name,
            "openbackpack": self.openbackpack,
            "baseline": self.baseline,
            "unit": self.unit,
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
        }
        clashes = set(ordered) & set(self.extra)
        if clashes:
            raise ValueError(f"extra fields may not replace {sorted(clashes)}")
        result: dict[str, Any] = rounded({**ordered, **self.extra})
        return result

    def to_json(self) -> str:
        """One line of JSON."""
        return json.dumps(self.as_dict(), separators=(", ", ": "))
