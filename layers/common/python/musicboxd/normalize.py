"""Query normalization: one cache key per meaning, letters of every script kept."""

from __future__ import annotations

import re
import unicodedata

MAX_QUERY_LENGTH = 200  # characters, before and after normalization
MAX_QUERY_BYTES = 600  # UTF-8 bytes after normalization (keeps every cache key part small)


class QueryTooLong(ValueError):
    """The query grew past the limits under NFKC (one character can become 18)."""


# What normalization never keeps: whitespace (a separator) and control and format code points
# (Cc, Cf; dropped), as explicit ranges (Unicode 15.1) rather than the running Python's
# categories, so the OpenAPI document can say exactly which queries are searchable
# (``SEARCHABLE_PATTERN``: at least one code point outside these) on any runtime. Lone
# surrogates (Cs) are dropped too, but cannot arrive in a UTF-8 query string.
UNSEARCHABLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0020), (0x007F, 0x00A0), (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C),
    (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x1680, 0x1680),
    (0x180E, 0x180E), (0x2000, 0x200F), (0x2028, 0x202F), (0x205F, 0x2064), (0x2066, 0x206F),
    (0x3000, 0x3000), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)  # fmt: skip


def _escape(code_point: int) -> str:
    return f"\\u{code_point:04X}" if code_point <= 0xFFFF else f"\\U{code_point:08X}"


_UNSEARCHABLE_CLASS = "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in UNSEARCHABLE_RANGES)
SEARCHABLE_PATTERN = f"[^{_UNSEARCHABLE_CLASS}]"  # unanchored, as OpenAPI patterns are
_DROPPED = re.compile(f"[{_UNSEARCHABLE_CLASS}]")


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
            " " if ch.isspace() else ch
            for ch in folded
            if ch.isspace() or not (_DROPPED.match(ch) or "\ud800" <= ch <= "\udfff")
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
