"""Pagination across tiers through the local API: one list per query (docs/design/pagination.md).

A query tier 1 answers on page 1 is walked page by page (``next`` links): one ``total`` on every
page, no album twice, links that agree with the offsets; then the same query is walked with tier 1
off (Spotify alone), which obeys the same rules with the same links wherever both lists go on.
Today's index list is shorter than Spotify's (its total is the index's matches): the design note
says why a tier-1 page cannot carry Spotify's total.
"""

from __future__ import annotations

import os
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from musicboxd import config, wiring

WORDS = ["love", "night", "gold", "heart", "dream", "fire", "star", "the"]
LIMIT = 8
SPOTIFY_PAGES = 8  # enough of Spotify's (longer) list to compare


def offset_of(link: str) -> int:
    return int(parse_qs(urlsplit(link).query)["offset"][0])


def walk(api, query: str, *, max_pages: int = 40) -> list[dict]:
    pages = [api.get("/search", params={"q": query, "limit": LIMIT}).json()]
    while pages[-1]["next"] is not None and len(pages) < max_pages:
        pages.append(api.get("/search" + pages[-1]["next"]).json())
    return pages


def assert_one_list(pages: list[dict]) -> None:
    """One total, no repeated album, links that walk the offsets; a finished walk holds ``total`` albums."""
    assert len({page["total"] for page in pages}) == 1, [(page["source"], page["total"]) for page in pages]
    ids = [album["id"] for page in pages for album in page["albums"]]
    assert len(ids) == len(set(ids)), [(page["source"], [a["id"] for a in page["albums"]]) for page in pages]
    for number, page in enumerate(pages):
        assert page["offset"] == number * LIMIT
        assert page["last_page"] == (page["next"] is None)
        assert page["next"] is None or offset_of(page["next"]) == (number + 1) * LIMIT
        assert (page["prev"] is None) == (number == 0)
        assert page["prev"] is None or offset_of(page["prev"]) == (number - 1) * LIMIT
    if pages[-1]["last_page"] and pages[-1]["total"] <= 1000:
        assert len(ids) == pages[-1]["total"]


@pytest.fixture
def spotify_alone(stack):
    """The same local API with tier 1 off for /search."""
    os.environ["TIER1_SEARCH"] = "false"
    config.settings.cache_clear()
    wiring.set_container(None)
    yield
    del os.environ["TIER1_SEARCH"]
    config.settings.cache_clear()
    wiring.set_container(None)


@pytest.fixture
def tier1_walks(stack, api, emulator):
    """Walks of the queries tier 1 answers on page 1, after a popularity sweep of this year (~220 calls)."""
    from tools.jobs.cli import run_job

    sweep = run_job("populate", {"sources": [], "sweep": True, "sweep_from_year": time.gmtime().tm_year, "budget": 600})
    assert sweep["status"] == "done", sweep
    wiring.container().tier1.after_restore()  # load the new version on the next request
    walks = {query: walk(api, query) for query in WORDS}
    answered = {query: pages for query, pages in walks.items() if pages[0]["source"] == "popular"}
    assert len(answered) >= 4, {query: pages[0]["source"] for query, pages in walks.items()}
    return answered


def test_pages_of_a_query_tier_1_answers_are_one_list_like_spotifys(tier1_walks, spotify_alone, api):
    for query, pages in tier1_walks.items():
        assert_one_list(pages)
        spotify = walk(api, query, max_pages=SPOTIFY_PAGES)
        assert {page["source"] for page in spotify} <= {"spotify", "cache"}
        assert_one_list(spotify)
        for mine, theirs in zip(pages, spotify, strict=False):  # the same links wherever both lists go on
            assert mine["prev"] == theirs["prev"]
            assert mine["next"] is None or mine["next"] == theirs["next"]
