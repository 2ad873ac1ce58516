"""Inverted index and query language of the emulator's ``/v1/search`` (and MusicBrainz search).

Matching is case- and accent-insensitive for every script. Space-separated scripts are split into
words; Han and kana runs (no spaces) are indexed as character unigrams and bigrams, so a CJK query
finds the titles that contain it. A query term matches a word exactly or, for terms of 2+ letters
outside CJK, as a prefix (scored lower).

Query syntax (Spotify's): free text, ``"quoted phrases"``, ``album:``, ``artist:`` (a word or a quoted
phrase), ``year:1999`` / ``year:1990-1999``, ``tag:new`` (released in the 14 days up to the
emulator clock), ``tag:hipster`` (lowest 10 % popularity), ``upc:``. Other Spotify filters that do
not apply to albums (``track:``, ``genre:``, ``isrc:``) are ignored.

Ranking is deterministic: match quality tier, then hidden popularity (desc), then id. A ranking
drift (``drift`` > 0, off by default) moves every album's popularity by seeded Gaussian noise of
that many points before ranking: Spotify reordering results by signals the tier-1 index never saw.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from tools.emulator.catalog import Album, Catalog

_EXTRA_FOLD = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "’": "",
        "'": "",
        "ʼ": "",
    }
)


@lru_cache(maxsize=100_000)
def fold(text: str) -> str:
    """Case- and accent-insensitive form: NFKC, casefold, strip combining marks, fold a few letters."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", text).translate(_EXTRA_FOLD)


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x3040 <= o <= 0x30FF  # hiragana, katakana
        or 0x31F0 <= o <= 0x31FF
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x2FFFF
    )


def _runs(folded: str) -> list[str]:
    """Split folded text into words; CJK characters form their own runs."""
    runs: list[str] = []
    cur: list[str] = []
    cur_cjk = False
    for ch in folded:
        if ch.isalnum() or unicodedata.category(ch) in ("Mn", "Mc"):
            c = is_cjk(ch)
            if cur and c != cur_cjk:
                runs.append("".join(cur))
                cur = []
            cur.append(ch)
            cur_cjk = c
        elif cur:
            runs.append("".join(cur))
            cur = []
    if cur:
        runs.append("".join(cur))
    return runs


def normalized(text: str) -> str:
    """Folded words joined by single spaces (phrase and exact-title comparisons)."""
    return " ".join(_runs(fold(text)))


def index_tokens(text: str) -> set[str]:
    tokens: set[str] = set()
    cjk_joined: list[str] = []  # consecutive CJK runs, joined: "记者 也是" also indexes "者也"

    def flush() -> None:
        if cjk_joined:
            joined = "".join(cjk_joined)
            tokens.update(joined)
            tokens.update(joined[i : i + 2] for i in range(len(joined) - 1))
            cjk_joined.clear()

    for run in _runs(fold(text)):
        if is_cjk(run[0]):
            cjk_joined.append(run)
        else:
            flush()
            tokens.add(run)
    flush()
    return tokens


@dataclass(frozen=True)
class Term:
    text: str
    cjk: bool


def query_terms(text: str) -> list[Term]:
    """Terms of a query: words, or CJK bigrams (a lone CJK character is a unigram)."""
    terms: list[Term] = []
    for run in _runs(fold(text)):
        if is_cjk(run[0]):
            if len(run) == 1:
                terms.append(Term(run, True))
            else:
                terms.extend(Term(run[i : i + 2], True) for i in range(len(run) - 1))
        else:
            terms.append(Term(run, False))
    return terms


@dataclass
class ParsedQuery:
    free: str = ""  # free text (incl. quoted phrases), raw
    phrases: list[str] = field(default_factory=list)
    album: list[str] = field(default_factory=list)
    artist: list[str] = field(default_factory=list)
    year: tuple[int, int] | None = None
    tag_new: bool = False
    tag_hipster: bool = False
    upc: str | None = None
    impossible: bool = False  # e.g. malformed year: matches nothing


_TOKEN_RE = re.compile(r'(?:([A-Za-z_]+):)?("([^"]*)"?|\S+)')


def parse_query(q: str) -> ParsedQuery:
    pq = ParsedQuery()
    free: list[str] = []
    for m in _TOKEN_RE.finditer(q):
        fieldname = (m.group(1) or "").lower()
        quoted = m.group(2).startswith('"')
        value = m.group(3) if quoted else m.group(2)
        if not fieldname:
            if quoted and value.strip():
                pq.phrases.append(value)
            if value.upper() in ("AND", "OR", "NOT") and not quoted:
                continue
            free.append(value)
        elif fieldname in ("album", "releasegroup", "release", "releasegroupaccent"):
            pq.album.append(value)
        elif fieldname in ("artist", "artistname"):
            pq.artist.append(value)
        elif fieldname in ("year", "firstreleasedate", "date"):
            m2 = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", value.strip())
            if m2:
                lo = int(m2.group(1))
                hi = int(m2.group(2) or lo)
                pq.year = (min(lo, hi), max(lo, hi))
            else:
                pq.impossible = True
        elif fieldname == "tag":
            if value.lower() == "new":
                pq.tag_new = True
            elif value.lower() == "hipster":
                pq.tag_hipster = True
        elif fieldname in ("upc", "barcode"):
            pq.upc = value.strip()
        # track:, genre:, isrc:, ... do not apply to albums: ignored
    pq.free = " ".join(free)
    return pq


TIER_EXACT = 100
TIER_EXACT_ARTIST_ALBUM = 95
TIER_PREFIX = 80
TIER_PHRASE = 70
TIER_ARTIST = 60
TIER_ALL_IN_TITLE = 50
TIER_MIXED = 40
TIER_PARTIAL = 30
TIER_FILTER_ONLY = 10


class SearchIndex:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        albums = catalog.albums
        self.album_norm: list[str] = []
        self.artist_norm: list[str] = []
        album_post: dict[str, list[int]] = {}
        artist_post: dict[str, list[int]] = {}
        artist_tokens_cache: dict[int, set[str]] = {}
        self.album_tokens: list[frozenset[str]] = []
        self.artist_tokens: list[frozenset[str]] = []
        for album in albums:
            names = [catalog.artists[i].name for i in album.artists]
            self.album_norm.append(normalized(album.name))
            self.artist_norm.append(" ".join(normalized(n) for n in names))
            toks = index_tokens(album.name)
            self.album_tokens.append(frozenset(toks))
            for t in toks:
                album_post.setdefault(t, []).append(album.index)
            atoks: set[str] = set()
            for ai in album.artists:
                if ai not in artist_tokens_cache:
                    artist_tokens_cache[ai] = index_tokens(catalog.artists[ai].name)
                atoks |= artist_tokens_cache[ai]
            self.artist_tokens.append(frozenset(atoks))
            for t in atoks:
                artist_post.setdefault(t, []).append(album.index)
        self.album_post = {k: frozenset(v) for k, v in album_post.items()}
        self.artist_post = {k: frozenset(v) for k, v in artist_post.items()}
        self.album_vocab = sorted(self.album_post)
        self.artist_vocab = sorted(self.artist_post)
        self.all_albums = frozenset(range(len(albums)))
        pops = sorted(a.popularity for a in albums)
        self.hipster_threshold = pops[len(pops) // 10]
        self.by_year: dict[int, list[int]] = {}
        day_dates: list[tuple[int, int]] = []
        self.recent: list[int] = []
        for album in albums:
            if album.recent_days is not None:
                self.recent.append(album.index)
                continue
            self.by_year.setdefault(int(album.release_date[:4]), []).append(album.index)
            if album.precision == "day":
                day_dates.append((dt.date.fromisoformat(album.release_date).toordinal(), album.index))
        day_dates.sort()
        self.day_ordinals = [d for d, _ in day_dates]
        self.day_albums = [i for _, i in day_dates]
        self.by_upc = {a.upc: a.index for a in albums}
        self._cache: dict[tuple[str, str, bool], frozenset[int]] = {}
        # "match key": popularity desc then id, precomputed for sorting
        self.rank_key: list[tuple[float, str]] = [(-a.popularity, a.id) for a in albums]
        self._drifted: tuple[tuple[float, int], list[tuple[float, str]]] | None = None

    def rank_keys(self, drift: float = 0.0, seed: int = 0) -> list[tuple[float, str]]:
        """Ranking keys per album; with ``drift`` > 0, popularity plus seeded N(0, drift) noise."""
        if drift <= 0:
            return self.rank_key
        cached = self._drifted
        if cached is None or cached[0] != (drift, seed):
            keys = [(-(a.popularity + random.Random(f"{seed}:{a.id}").gauss(0.0, drift)), a.id)
                    for a in self.catalog.albums]  # fmt: skip
            cached = self._drifted = ((drift, seed), keys)
        return cached[1]

    # -- term matching -------------------------------------------------------------------------
    def _expand(self, fieldname: str, term: Term, prefix: bool) -> frozenset[int]:
        key = (fieldname, term.text, prefix)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        post = self.album_post if fieldname == "album" else self.artist_post
        if not prefix or term.cjk:
            result = post.get(term.text, frozenset())
        else:
            vocab = self.album_vocab if fieldname == "album" else self.artist_vocab
            i = bisect_left(vocab, term.text)
            acc: set[int] = set()
            while i < len(vocab) and vocab[i].startswith(term.text):
                acc |= post[vocab[i]]
                i += 1
            result = frozenset(acc)
        if len(self._cache) > 200_000:
            self._cache.clear()
        self._cache[key] = result
        return result

    def _match(self, fields: tuple[str, ...], term: Term) -> frozenset[int]:
        prefix = len(term.text) >= 2
        sets = [self._expand(f, term, prefix) for f in fields]
        return sets[0] if len(sets) == 1 else sets[0] | sets[1]

    # -- search ----------------------------------------------------------------------------------
    def candidates(self, pq: ParsedQuery, today: dt.date, market: str | None = None) -> set[int] | frozenset[int]:
        if pq.impossible:
            return frozenset()
        constraints: list[frozenset[int] | set[int]] = []
        for term in query_terms(pq.free):
            constraints.append(self._match(("album", "artist"), term))
        for value in pq.album:
            constraints.extend(self._match(("album",), t) for t in query_terms(value))
        for value in pq.artist:
            constraints.extend(self._match(("artist",), t) for t in query_terms(value))
        if pq.upc is not None:
            idx = self.by_upc.get(pq.upc)
            constraints.append(frozenset() if idx is None else frozenset((idx,)))
        if pq.tag_new:
            constraints.append(self.new_releases(today, days=14))
        if pq.year is not None and not constraints:
            lo, hi = pq.year
            acc = {i for y in range(lo, hi + 1) for i in self.by_year.get(y, ())}
            acc |= {i for i in self.recent if lo <= self.catalog.albums[i].year(today) <= hi}
            constraints.append(acc)
        if not constraints:
            result: set[int] | frozenset[int] = self.all_albums
        else:
            constraints.sort(key=len)
            result = set(constraints[0])
            for c in constraints[1:]:
                result &= c
                if not result:
                    break
        albums = self.catalog.albums
        if pq.year is not None:
            lo, hi = pq.year
            result = {i for i in result if lo <= albums[i].year(today) <= hi}
        if pq.tag_hipster:
            result = {i for i in result if albums[i].popularity <= self.hipster_threshold}
        for phrase in pq.phrases:
            p = normalized(phrase)
            if p:
                result = {i for i in result if p in self.album_norm[i] or p in self.artist_norm[i]}
        for value in pq.album:
            p = normalized(value)
            if " " in p:  # quoted multi-word album filter: phrase match
                result = {i for i in result if p in self.album_norm[i]}
        for value in pq.artist:
            p = normalized(value)
            if " " in p:
                result = {i for i in result if p in self.artist_norm[i]}
        if market:
            result = {i for i in result if market in albums[i].markets}
        return result

    def new_releases(self, today: dt.date, days: int = 14) -> set[int]:
        """Albums released in the ``days`` days up to ``today`` (day precision only)."""
        lo = today.toordinal() - days + 1
        hi = today.toordinal()
        i = bisect_left(self.day_ordinals, lo)
        j = bisect_left(self.day_ordinals, hi + 1)
        result = set(self.day_albums[i:j])
        for idx in self.recent:
            d = self.catalog.albums[idx].release_day(today).toordinal()
            if lo <= d <= hi:
                result.add(idx)
        return result

    def tier(self, idx: int, pq: ParsedQuery) -> int:
        text = pq.free or " ".join(pq.album) or " ".join(pq.artist)
        if not text.strip():
            return TIER_FILTER_ONLY
        q = normalized(text)
        title = self.album_norm[idx]
        artist = self.artist_norm[idx]
        if q == title:
            return TIER_EXACT
        if q in (f"{artist} {title}", f"{title} {artist}"):
            return TIER_EXACT_ARTIST_ALBUM
        if title.startswith(q + " ") or (title.startswith(q) and len(q) >= 3):
            return TIER_PREFIX
        if q in title:
            return TIER_PHRASE
        if q == artist:
            return TIER_ARTIST
        terms = query_terms(text)
        toks = self.album_tokens[idx]
        if all(t.text in toks for t in terms):
            return TIER_ALL_IN_TITLE
        atoks = self.artist_tokens[idx]
        if all(t.text in toks or t.text in atoks for t in terms):
            return TIER_MIXED
        return TIER_PARTIAL

    def search(
        self,
        q: str | ParsedQuery,
        today: dt.date,
        offset: int = 0,
        limit: int = 20,
        market: str | None = None,
        *,
        drift: float = 0.0,
        drift_seed: int = 0,
    ) -> tuple[int, list[Album], list[int]]:
        """(total, albums of the page, their tiers) for query ``q`` (``drift``: see the module doc)."""
        pq = parse_query(q) if isinstance(q, str) else q
        cands = self.candidates(pq, today, market)
        total = len(cands)
        need = offset + limit
        if need <= 0 or not cands:
            return total, [], []
        rank_key = self.rank_keys(drift, drift_seed)
        keyed = ((-self.tier(i, pq), rank_key[i], i) for i in cands)
        top = heapq.nsmallest(need, keyed) if need < total else sorted(keyed)
        page = top[offset:need]
        return total, [self.catalog.albums[i] for _, _, i in page], [-t for t, _, _ in page]

    def search_artists(self, q: str, offset: int = 0, limit: int = 20) -> tuple[int, list[int]]:
        """Artist search (``type=artist``): artists whose name matches every term."""
        terms = query_terms(parse_query(q).free or " ".join(parse_query(q).artist))
        if not terms:
            return 0, []
        albums = set(self.all_albums)
        for t in terms:
            albums &= self._match(("artist",), t)
        artists_idx: set[int] = set()
        artist_tokens = {}
        for i in albums:
            for ai in self.catalog.albums[i].artists:
                if ai not in artist_tokens:
                    artist_tokens[ai] = index_tokens(self.catalog.artists[ai].name)
                toks = artist_tokens[ai]
                if all(t.text in toks or (not t.cjk and any(k.startswith(t.text) for k in toks)) for t in terms):
                    artists_idx.add(ai)
        qn = normalized(" ".join(t.text for t in terms))
        arts = self.catalog.artists
        ranked = sorted(artists_idx, key=lambda a: (normalized(arts[a].name) != qn, -arts[a].popularity, arts[a].id))
        return len(ranked), ranked[offset : offset + limit]
