"""Misspelled queries: a correction only when it is clearly the best among indexed names.

A query word that matches no indexed word (not even as a prefix) is replaced by the one indexed
word at edit distance 1 (a letter dropped, added, changed, or two neighbours swapped: the usual
typing slips); when no word or several are that close, there is no correction and the search
goes to Spotify as before. The corrected query must then match a whole name (a title, an artist,
or "artist title"), so a correction never turns a misspelling into a loose partial match.

Pure Python and bounded: at most ``MAX_FIXES`` words of ``MIN_LENGTH``+ letters per query, each
about (2 + alphabet) x length dictionary lookups; the alphabet (letters of the indexed words
outside Han/kana/Thai, which are matched as bigrams and never corrected) is collected once per
index, on the first correction. Edit distance by hand rather than rapidfuzz: a lookup of the
~2,000 single edits in the vocabulary is exact, needs no scan of the vocabulary and no import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from musicboxd.index.core import ARTIST, ARTIST_TITLE, EXACT
from musicboxd.index.text import is_unspaced, query_terms

if TYPE_CHECKING:
    from musicboxd.index.core import Tier1Index

MIN_LENGTH = 4  # shorter words have too many neighbours at distance 1
MAX_FIXES = 2
WHOLE_NAME = (EXACT, ARTIST_TITLE, ARTIST)


def edits(word: str, alphabet: str) -> set[str]:
    """Every string at edit distance 1 from ``word`` (optimal string alignment: swaps count as one)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {left + right[1:] for left, right in splits if right}
    out |= {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
    out |= {left + letter + right[1:] for left, right in splits if right for letter in alphabet}
    out |= {left + letter + right for left, right in splits for letter in alphabet}
    out.discard(word)
    return out


def _vocabulary(index: Tier1Index) -> frozenset[str]:
    """The index's words as a set (its vocabulary is a sorted list), built once per index."""
    cached: frozenset[str] | None = getattr(index, "_spelling_vocabulary", None)
    if cached is None:
        cached = frozenset(index.vocab)
        index._spelling_vocabulary = cached  # type: ignore[attr-defined]
    return cached


def _alphabet(index: Tier1Index) -> str:
    cached: str | None = getattr(index, "_spelling_alphabet", None)
    if cached is None:
        letters = {ch for token in index.vocab if not is_unspaced(token[0]) for ch in token if ch.isalpha()}
        cached = "".join(sorted(letters))
        index._spelling_alphabet = cached  # type: ignore[attr-defined]
    return cached


def _known(index: Tier1Index, word: str) -> bool:
    """Indexed as a word, or the start of one (what a search would match)."""
    return bool(index._term_set(word, False, len(word) >= 2))


def correct(index: Tier1Index, folded: str) -> str | None:
    """The folded query with its unknown words corrected, or None when no clear correction exists."""
    terms = query_terms(folded)
    if not terms or any(unspaced for _, unspaced in terms):
        return None
    fixed: list[str] = []
    fixes = 0
    for word, _ in terms:
        if _known(index, word):
            fixed.append(word)
            continue
        if len(word) < MIN_LENGTH or fixes == MAX_FIXES:
            return None
        vocabulary = _vocabulary(index)
        candidates = [c for c in edits(word, _alphabet(index)) if c in vocabulary]
        if len(candidates) != 1:
            return None  # nothing close, or no single best
        fixed.append(candidates[0])
        fixes += 1
    if not fixes:
        return None
    corrected = " ".join(fixed)
    _, ranked = index.ranked(corrected)
    return corrected if ranked and ranked[0][0] in WHOLE_NAME else None
