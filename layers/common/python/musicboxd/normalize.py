"""Query normalization: one cache key per meaning, letters of every script kept."""

from __future__ import annotations

import unicodedata

MAX_QUERY_LENGTH = 200  # characters, before and after normalization
MAX_QUERY_BYTES = 600  # UTF-8 bytes after normalization (keeps every cache key part small)


class QueryTooLong(ValueError):
    """The query grew past the limits under NFKC (one character can become 18)."""


def normalize_query(text: str) -> str:
    """NFKC, casefold, collapse whitespace, and drop control/format characters.

    Unlike an ASCII regex, letters of every script survive ("Björk", "坂本龍一", "Кино").
    Idempotent: ``normalize_query(normalize_query(x)) == normalize_query(x)``.
    """
    previous, current = None, text
    # NFKC and casefold do not commute for a few code points: iterate to a fixed point.
    for _ in range(4):
        if current == previous:
            break
        previous = current
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", current).casefold())
        kept = "".join(
            " " if ch.isspace() else ch for ch in folded if ch.isspace() or unicodedata.category(ch)[0] != "C"
        )
        current = " ".join(kept.split())
    return current


def searchable_query(text: str) -> str:
    """``normalize_query`` checked for use as a key: not empty, within the character and byte limits."""
    normalized = normalize_query(text)
    if not normalized:
        raise ValueError("query is empty after normalization")
    if len(normalized) > MAX_QUERY_LENGTH or len(normalized.encode()) > MAX_QUERY_BYTES:
        raise QueryTooLong(
            f"q must be at most {MAX_QUERY_LENGTH} characters and {MAX_QUERY_BYTES} UTF-8 bytes after "
            "Unicode normalization (NFKC)"
        )
    return normalized


def strip_accents(text: str) -> str:
    """Accent-insensitive form for matching (not for cache keys): NFKD minus combining marks."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFKC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))
