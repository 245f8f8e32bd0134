"""Rendered fragments are kept by a digest of their whole input, bounded, and never stale."""

from __future__ import annotations

from openbackpack.web._fragments import RenderedFragments


def test_a_fragment_is_rendered_once_for_the_same_input() -> None:
    """The second ask for one digest returns the kept HTML without rendering again."""
    fragments = RenderedFragments()
    calls: list[int] = []
    key = fragments.digest("list", "badges-json", "links-json")

    def render() -> str:
        calls.append(1)
        return "<ul></ul>"

    assert fragments.get_or_render(key, render) == "<ul></ul>"
    assert fragments.get_or_render(key, render) == "<ul></ul>"
    assert calls == [1]


def test_another_input_is_another_key() -> None:
    """Any change in what a fragment shows, or in how its parts split, gives a new digest."""
    digest = RenderedFragments.digest
    assert digest("list", "a", "b") != digest("list", "a", "c")
    assert digest("list", "ab", "") != digest("list", "a", "b")


def test_the_least_recently_used_fragment_goes_first() -> None:
    """Past its size the map forgets the fragment used longest ago, and keeps the rest."""
    fragments = RenderedFragments(size=2)
    fragments.get_or_render("a", lambda: "A")
    fragments.get_or_render("b", lambda: "B")
    fragments.get_or_render("a", lambda: "not rendered")
    fragments.get_or_render("c", lambda: "C")
    assert len(fragments) == 2
    assert fragments.get_or_render("a", lambda: "again") == "A"
    assert fragments.get_or_render("b", lambda: "B again") == "B again"
