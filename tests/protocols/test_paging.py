"""Badgr's paged lists: which routes page, and reading the Link header (badgr-wire.md §3.1)."""

from __future__ import annotations

import pytest

from openbackpack.protocols import badgr, displayer, next_page_url

PAGED = {
    "badgeclasses.list",
    "issuer.badgeclasses.list",
    "badgeclass.assertions.list",
    "issuer.assertions.list",
}


def test_exactly_the_four_documented_lists_are_paged() -> None:
    """Badgr pages the badge class and award lists; the backpack and issuer lists never."""
    assert {name for name, e in badgr.ROUTES.items() if e.paged} == PAGED
    assert not any(e.paged for e in displayer.ROUTES.values())
    assert all(badgr.route(name).method == "GET" for name in PAGED)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            '<https://a.example/v2/x?cursor=bz0y&num=2>; rel="next", '
            '<https://a.example/v2/x?cursor=bz0w&num=2>; rel="prev"',
            "https://a.example/v2/x?cursor=bz0y&num=2",
            id="next-then-prev",
        ),
        pytest.param(
            '<https://a.example/p>; rel="prev", <https://a.example/n>; rel="next"',
            "https://a.example/n",
            id="prev-then-next",
        ),
        pytest.param('<https://a.example/p>; rel="prev"', None, id="last-page"),
        pytest.param(
            "<https://a.example/q?a=1,2>; rel=next", "https://a.example/q?a=1,2", id="comma"
        ),
        pytest.param('<https://a.example/n>; REL="prev next"', "https://a.example/n", id="many"),
        pytest.param("garbage", None, id="garbage"),
        pytest.param("", None, id="empty"),
    ],
)
def test_next_page_url_reads_the_next_entry(header: str, expected: str | None) -> None:
    """The rel="next" URL is found wherever it stands; anything else gives None."""
    assert next_page_url({"Link": header}) == expected


def test_next_page_url_without_a_link_header() -> None:
    """No headers, or no Link among them, means no next page."""
    assert next_page_url(None) is None
    assert next_page_url({"Content-Type": "application/json"}) is None
    assert next_page_url({"link": '<https://a.example/n>; rel="next"'}) == "https://a.example/n"
