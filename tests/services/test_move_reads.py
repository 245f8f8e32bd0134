"""A move reads its source and its target at once, and fails whole when either read fails."""

from __future__ import annotations

import threading

import pytest

from openbackpack._exceptions import BackpackError
from openbackpack.services.move import HeldBadge, SourceBadge
from openbackpack.services.move._run import _read_both

_WAIT = 10.0


class _Source:
    """A source whose read ends only once the target's read has begun (or fails, if told)."""

    def __init__(self, target_began: threading.Event, error: BackpackError | None = None):
        self.target_began = target_began
        self.error = error

    def read(self) -> list[SourceBadge]:
        if not self.target_began.wait(_WAIT):
            raise AssertionError("the target was not read while the source was")
        if self.error is not None:
            raise self.error
        return [SourceBadge("a", "here", {"id": "a"})]


class _Target:
    """A target whose read says it began, then takes a while."""

    def __init__(self) -> None:
        self.began = threading.Event()
        self.ended = threading.Event()

    def holdings(self) -> list[HeldBadge]:
        self.began.set()
        threading.Event().wait(0.2)
        self.ended.set()
        return [HeldBadge("r", "b", None, None, None, None)]


def test_the_target_is_read_while_the_source_is() -> None:
    """The source's read waits for the target's to begin: read one after the other, it fails."""
    target = _Target()
    badges, holdings = _read_both(_Source(target.began), target)  # type: ignore[arg-type]
    assert [badge.key for badge in badges] == ["a"]
    assert [held.remote_id for held in holdings] == ["r"]


def test_a_source_that_fails_raises_its_error_after_the_target_read_ended() -> None:
    """The source's error is raised, and no read of the target is left running behind it."""
    target = _Target()
    source = _Source(target.began, BackpackError("the source is down"))
    with pytest.raises(BackpackError, match="the source is down"):
        _read_both(source, target)  # type: ignore[arg-type]
    assert target.ended.is_set()


def test_a_target_that_fails_raises_its_error() -> None:
    """A target whose read fails fails the reads, with the target's error."""

    class Failing(_Target):
        def holdings(self) -> list[HeldBadge]:
            self.began.set()
            raise BackpackError("the target is down")

    target = Failing()
    with pytest.raises(BackpackError, match="the target is down"):
        _read_both(_Source(target.began), target)  # type: ignore[arg-type]
