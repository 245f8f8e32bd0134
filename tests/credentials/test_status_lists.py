"""A status list is kept between verifications only while its ttl, the cap and its dates allow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from openbackpack._exceptions import InvalidInputError
from openbackpack.credentials import StatusListCache, VerificationReport

URL = "https://issuer.example/status/1"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _list_report(*, ttl: Any = 60_000, valid: bool = True, **extra: Any) -> VerificationReport:
    subject: dict[str, Any] = {"type": "BitstringStatusList", "encodedList": "u"}
    if ttl is not None:
        subject["ttl"] = ttl
    report = VerificationReport(credential={"id": URL, "credentialSubject": subject, **extra})
    if valid:
        report.passed("proof", "signed")
    else:
        report.failed("proof", "forged")
    return report


def test_a_list_with_a_ttl_is_kept_for_the_ttl() -> None:
    """A verified list stating 60 s is given back until 60 s have passed, then fetched again."""
    clock = Clock()
    cache = StatusListCache(clock=clock)
    report = _list_report()
    assert cache.keep(URL, report)
    clock.now += 59.9
    assert cache.get(URL) is report
    clock.now += 0.2
    assert cache.get(URL) is None


def test_the_cap_shortens_a_long_ttl() -> None:
    """A list stating a day is kept no longer than the cache's max_age."""
    clock = Clock()
    cache = StatusListCache(max_age=10, clock=clock)
    cache.keep(URL, _list_report(ttl=86_400_000))
    clock.now += 10.1
    assert cache.get(URL) is None


@pytest.mark.parametrize(
    "report",
    [
        _list_report(ttl=None),
        _list_report(ttl=0),
        _list_report(ttl="soon"),
        _list_report(ttl=True),
        _list_report(valid=False),
        _list_report(validUntil="2001-01-01T00:00:00Z"),
    ],
    ids=["no ttl", "zero", "not a number", "a boolean", "its proof failed", "already ended"],
)
def test_lists_that_may_not_be_relied_on_are_not_kept(report: VerificationReport) -> None:
    """No ttl, a bad ttl, a failed verification or a past validUntil: nothing is kept."""
    cache = StatusListCache()
    assert not cache.keep(URL, report)
    assert cache.get(URL) is None


def test_a_near_valid_until_shortens_the_ttl() -> None:
    """A list ending in five seconds is not kept past then, though its ttl says a minute."""
    clock = Clock()
    cache = StatusListCache(clock=clock)
    ends = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
    cache.keep(URL, _list_report(validUntil=ends))
    clock.now += 4
    assert cache.get(URL) is not None
    clock.now += 2
    assert cache.get(URL) is None


def test_max_age_zero_keeps_nothing_and_clear_forgets() -> None:
    """max_age=0 turns keeping off; clear() forgets what was kept."""
    assert not StatusListCache(max_age=0).keep(URL, _list_report())
    cache = StatusListCache()
    cache.keep(URL, _list_report())
    cache.clear()
    assert cache.get(URL) is None


@pytest.mark.parametrize(("max_age", "entries"), [(-1.0, 10), (1.0, 0)])
def test_bad_limits_are_typed_errors(max_age: float, entries: int) -> None:
    """A negative max_age or no room at all is refused, naming the setting."""
    with pytest.raises(InvalidInputError, match=r"max_age|max_entries"):
        StatusListCache(max_age=max_age, max_entries=entries)
