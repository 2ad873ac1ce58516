"""Links between the pages of one search: ``next``, ``prev`` and the last reachable page.

Links are query-only relative references (``?q=..&limit=..&offset=..``, RFC 3986 5.2): they
resolve against the page's own path, so they hold under a stage prefix and behind CloudFront.
Spotify serves offsets up to 1000, so a page whose next offset would pass it is the last
reachable one even when ``total`` is larger.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

MAX_OFFSET = 1000  # Spotify's search offset limit (Development and extended mode)


@dataclass(frozen=True)
class PageLinks:
    next: str | None
    prev: str | None
    last_page: bool


def _link(query: str, limit: int, offset: int) -> str:
    return "?" + urlencode({"q": query, "limit": limit, "offset": offset}, quote_via=quote)


def page_links(query: str, *, limit: int, offset: int, total: int, returned: int) -> PageLinks:
    """Links of the page [offset, offset + limit) that returned ``returned`` of ``total`` albums."""
    following = offset + limit
    more = returned == limit and following < total and following <= MAX_OFFSET
    return PageLinks(
        next=_link(query, limit, following) if more else None,
        prev=_link(query, limit, max(0, offset - limit)) if offset > 0 else None,
        last_page=not more,
    )
