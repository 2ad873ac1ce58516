"""Text folding and tokens for the tier-1 index, pure stdlib (docs/design/tier1.md)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from musicboxd.normalize import normalize_query, strip_accents

_EXTRA_FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
     "’": "", "'": "", "ʼ": "", "‘": ""}
)  # fmt: skip

_NO_SPACE_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified
    (0xF900, 0xFAFF),
    (0x20000, 0x2FFFF),
)


def is_unspaced(ch: str) -> bool:
    """A character of a script written without spaces between words."""
    o = ord(ch)
    if o < 0x0E00:  # Latin, Greek, Cyrillic, Arabic, ...: the common case, answered at once
        return False
    return any(lo <= o <= hi for lo, hi in _NO_SPACE_RANGES)


@lru_cache(maxsize=65_536)
def fold(text: str) -> str:
    """Case-, width- and accent-insensitive form of a name or query."""
    return strip_accents(normalize_query(text)).translate(_EXTRA_FOLD)


def runs(folded: str) -> list[str]:
    """Words of folded text; runs of unspaced scripts are their own words."""
    out: list[str] = []
    cur: list[str] = []
    cur_unspaced = False
    for ch in folded:
        if ch.isalnum() or unicodedata.category(ch) in ("Mn", "Mc"):
            u = is_unspaced(ch)
            if cur and u != cur_unspaced:
                out.append("".join(cur))
                cur = []
            cur.append(ch)
            cur_unspaced = u
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


def words(text: str) -> str:
    """Folded words joined by single spaces: the form names are compared in."""
    return " ".join(runs(fold(text)))


def index_tokens(folded_words: str) -> set[str]:
    """Tokens a name is indexed under (from :func:`words` output)."""
    if not folded_words or max(folded_words) < "\u0e00":  # no unspaced script: just the words
        return set(folded_words.split()) if folded_words else set()
    tokens: set[str] = set()
    for run in folded_words.split(" "):
        if not run:
            continue
        if is_unspaced(run[0]):
            tokens.update(run)
            tokens.update(run[i : i + 2] for i in range(len(run) - 1))
        else:
            tokens.add(run)
    return tokens


def query_terms(folded_words: str) -> list[tuple[str, bool]]:
    """(term, unspaced) pairs of a query: words, or bigrams of unspaced runs."""
    terms: list[tuple[str, bool]] = []
    for run in folded_words.split(" "):
        if not run:
            continue
        if is_unspaced(run[0]):
            if len(run) == 1:
                terms.append((run, True))
            else:
                terms.extend((run[i : i + 2], True) for i in range(len(run) - 1))
        else:
            terms.append((run, False))
    return terms
