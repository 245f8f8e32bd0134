"""The two interfaces a backpack kind implements to take part in a move."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from openbackpack.services.move._model import HeldBadge, MoveItem, SourceBadge

__all__ = ["Source", "Target"]


class Source(Protocol):
    """Where badges come from: it reads everything the learner has, and may delete."""

    @property
    def label(self) -> str:
        """The source as the report names it."""
        ...

    @property
    def emails(self) -> tuple[str, ...]:
        """The learner's verified emails this source knows of (may be empty)."""
        ...

    @property
    def deletion(self) -> str | None:
        """None when badges can be deleted here; else why not."""
        ...

    def read(self) -> list[SourceBadge]:
        """Every badge the learner has here."""
        ...

    def delete(self, badge: SourceBadge) -> None:
        """Delete one badge (only called when :attr:`deletion` is None)."""
        ...


class Target(Protocol):
    """Where badges go: what it holds, how it takes a badge, and what it cannot take."""

    @property
    def label(self) -> str:
        """The target as the report names it."""
        ...

    @property
    def emails(self) -> tuple[str, ...]:
        """The verified emails of the learner's account here."""
        ...

    @property
    def claim_scope(self) -> tuple[int, str]:
        """The provider id and key prefix under which creates here are claimed."""
        ...

    def holdings(self) -> list[HeldBadge]:
        """Every badge the target holds for the learner now."""
        ...

    def refusal(self, item: MoveItem) -> str | None:
        """Why this target cannot take the badge, or None if it can."""
        ...

    def method(self, item: MoveItem) -> str:
        """How the badge goes in (``import by URL``, ``POST assertion``...)."""
        ...

    def put(self, item: MoveItem) -> str:
        """Send the badge; return the id under which the target holds it.

        Raises:
            DuplicateBadgeError: the target holds it already.
        """
        ...

    def find(self, item: MoveItem) -> Iterable[str]:
        """The ids of what the target holds that is this badge (after a lost answer)."""
        ...
