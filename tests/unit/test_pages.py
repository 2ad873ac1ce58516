"""Page links: next/prev as relative references, and the last reachable page (offset <= 1000)."""

from urllib.parse import parse_qs, urljoin, urlsplit

from musicboxd.api.pages import page_links


def offset_of(link: str) -> int:
    return int(parse_qs(urlsplit(link).query)["offset"][0])


def test_links_walk_the_pages_and_resolve_under_any_prefix():
    first = page_links("björk & co", limit=10, offset=0, total=25, returned=10)
    assert first.prev is None and not first.last_page and offset_of(first.next) == 10
    assert urljoin("https://cdn.example/prod/search?q=x", first.next).startswith("https://cdn.example/prod/search?")
    assert parse_qs(urlsplit(first.next).query)["q"] == ["björk & co"]
    last = page_links("björk & co", limit=10, offset=20, total=25, returned=5)
    assert last.next is None and last.last_page and offset_of(last.prev) == 10


def test_offset_1000_is_the_last_reachable_page_even_when_total_is_larger():
    assert page_links("love", limit=10, offset=990, total=50_000, returned=10).next.endswith("offset=1000")
    end = page_links("love", limit=10, offset=1000, total=50_000, returned=10)
    assert end.next is None and end.last_page
    assert page_links("love", limit=50, offset=960, total=50_000, returned=50).last_page


def test_a_short_page_ends_the_results_whatever_total_says():
    assert page_links("x", limit=10, offset=0, total=30, returned=7).last_page
