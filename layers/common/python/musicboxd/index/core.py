"""The tier-1 index: popular albums, their folded names, and a token -> postings map (docs/design/tier1.md;
the artifact format and why its unpickler is safe: docs/cold-start.md)."""

from __future__ import annotations

import gc
import io
import json
import pickle
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

from musicboxd.index.ranks import Rank, ordered, span
from musicboxd.index.text import index_tokens, query_terms, words
from musicboxd.models import AlbumSummary, ArtistRef, SearchPage

FORMAT = 4  # pickled prepared state; 3 (zlib JSON columns) is still read
_JSON_FORMAT = 3

# Match quality of an album for a whole query, best first. The ladder follows how Spotify
# orders album search results (exact title, then titles that start with the query, then the
# query as a phrase inside the title, then the artist's albums, then scattered words).
EXACT = 7  # title == query
ARTIST_TITLE = 6  # query == "artist title" or "title artist"
TITLE_PREFIX = 5  # title starts with the query
PHRASE = 4  # query is a phrase inside the title
ARTIST = 3  # query == an artist's name (or the joined credits)
ALL_IN_TITLE = 2  # every query word is a title word
MIXED = 1  # every query word is a title or artist word
PARTIAL = 0  # some words only match as prefixes

CONFIDENCE_RULE = """\
/search is answered from the index (source "popular") only when all of these hold:
1. offset == 0, the folded query has at least 2 characters and matches at least one album;
2. the index was built with a popularity sweep (Spotify's own order, musicboxd.index.ranks),
   or - without one (POPULATE_SWEEP off) - the folded query is one users searched before and
   each of the index's first k + 1 matches was in Spotify's cached answer to it (without the
   sweep the index cannot know that an album it does not hold would not match better);
3. with k = min(limit, 5), wherever two neighbours among the index's first k + 1 matches
   share a match class (so Spotify orders them by popularity), their order is known: read
   from one Spotify list, or one from the top of a list the other is below, or (different
   release years) estimates more than 1.5 standard errors (+ 50 positions) apart.
The first k results are then Spotify's first k unless an album the index does not hold
(the least popular albums of the biggest years) matches better; measured by `make bench`.
Results after the k-th are the index's best guess. Anything else goes to Spotify."""


@dataclass(frozen=True)
class IndexedAlbum:
    """What the build needs per album: the summary plus our own ranking signals."""

    summary: AlbumSummary
    demand: float = 0.0  # how often users asked for it (searches + opens), if counted
    popularity: int | None = None  # Spotify's, only where the app still receives it
    tier: str = "popular"
    fetched_at: float = 0.0
    rank: Rank | None = None  # from the popularity sweep, where it listed the album
    catalog_size: int = 0  # albums the sweep counted (scales ``rank.est``)


def rank_score(album: IndexedAlbum, *, now_year: int) -> float:
    """Our ordering signal: demand first, then Spotify popularity if known, then recency.

    Dimensionless, only compared between albums of one index.
    """
    score = 0.0
    if album.demand > 0:
        import math

        score += 20.0 * math.log1p(album.demand)
    if album.popularity is not None:
        score += float(album.popularity)
    elif album.rank is not None and album.rank.est is not None and album.catalog_size:
        score += 100.0 * max(0.0, 1.0 - album.rank.est / album.catalog_size)  # popularity's scale
    if album.tier == "popular":
        score += 5.0
    year = (album.summary.release_date or "")[:4]
    if year.isdigit():
        age = max(0, now_year - int(year))
        score += max(0.0, 5.0 - age / 4)  # up to +5 for this year's releases
    return score


# Per-album columns. "artists" holds positions in the shared artist table (id, name, folded
# name); "title_w" the folded title, so a load never folds again; "artist_name" and
# "spotify_url" are null when they are the usual derived values, "image_url" drops Spotify's
# image prefix: all to keep the artifact small.
_COLUMNS = ("id", "name", "artists", "artist_name", "release_date", "release_date_precision",
            "album_type", "total_tracks", "image_url", "spotify_url", "score", "title_w",
            "year", "est", "err", "lists")  # fmt: skip
# What an artifact holds: the columns and everything _prepare derives that a query needs.
_STORED = ("version", "built_at", "catalog_size", "list_ids", "artists", "cols", "title_w", "artist_w",
           "artist_info", "vocab", "postings", "offsets", "artist_post", "artist_vocab", "pop_key",
           "searched", "artist_links", "swept", "searched_page")  # fmt: skip
_IMAGE_PREFIX = "https://i.scdn.co/image/"
_ALBUM_URL = "https://open.spotify.com/album/"
_ARTIST_URL = "https://open.spotify.com/artist/"  # Spotify's external_urls.spotify of an artist id


class _DataOnlyUnpickler(pickle.Unpickler):
    """Builds only what pickle encodes natively (dict, list, tuple, str, bytes, numbers, None).

    Code runs during unpickling only through a callable named by a global (GLOBAL /
    STACK_GLOBAL -> ``find_class``) or a persistent id; both are refused, so a forged artifact
    can fail to load but never run anything.
    """

    def find_class(self, module: str, name: str) -> type:
        raise pickle.UnpicklingError(f"tier-1 index: global {module}.{name} refused")


@dataclass
class Suggestion:
    type: str  # album | artist
    id: str
    name: str
    artist_name: str
    image_url: str | None
    spotify_url: str | None  # the link back to Spotify (attribution, docs/compliance.md)


@dataclass
class Tier1Index:
    version: str = ""
    built_at: float = 0.0
    cols: dict[str, list] = field(default_factory=lambda: {c: [] for c in _COLUMNS})
    artists: list[list[str]] = field(default_factory=list)  # [id, name, folded name]
    # per artist: its Spotify link when not the usual open.spotify.com/artist/<id> ("" for none)
    artist_links: list[str | None] = field(default_factory=list)
    catalog_size: int = 0  # albums the popularity sweep counted; 0: built without a sweep
    list_ids: list[str] = field(default_factory=list)  # the sweep's lists, numbered in the "lists" column
    searched: list[str] = field(default_factory=list)  # without a sweep: folded query of cached page n

    # -- building and (de)serialization ------------------------------------------------------

    @classmethod
    def build(cls, albums: Iterable[IndexedAlbum], *, version: str, built_at: float, now_year: int,
              catalog_size: int = 0, searched: Iterable[str] = (),
              max_albums: int | None = None) -> Tier1Index:  # fmt: skip
        seen: dict[str, tuple[float, IndexedAlbum]] = {}
        for a in albums:
            album_score = rank_score(a, now_year=now_year)
            prev = seen.get(a.summary.id)
            if prev is None or album_score > prev[0]:
                seen[a.summary.id] = (album_score, a)
        ranked = sorted(seen.values(), key=lambda p: (-p[0], p[1].summary.id))[:max_albums]
        idx = cls(version=version, built_at=built_at, catalog_size=catalog_size,
                  searched=[words(q) for q in searched])  # fmt: skip
        c = idx.cols
        artist_pos: dict[tuple[str, str], int] = {}
        list_no: dict[str, int] = {}
        for score, a in ranked:
            summary = a.summary
            refs = []
            for r in summary.artists:
                pos = artist_pos.get((r.id, r.name))
                if pos is None:
                    pos = artist_pos[(r.id, r.name)] = len(idx.artists)
                    idx.artists.append([r.id, r.name, words(r.name)])
                    idx.artist_links.append(None if r.spotify_url == _ARTIST_URL + r.id else r.spotify_url or "")
                refs.append(pos)
            joined = ", ".join(r.name for r in summary.artists)
            image = summary.image_url
            if image and image.startswith(_IMAGE_PREFIX):
                image = image[len(_IMAGE_PREFIX) :]
            elif image:
                image = "=" + image  # stored verbatim
            c["id"].append(summary.id)
            c["name"].append(summary.name)
            c["artists"].append(refs)
            c["artist_name"].append(None if summary.artist_name == joined else summary.artist_name)
            c["release_date"].append(summary.release_date)
            c["release_date_precision"].append(summary.release_date_precision)
            c["album_type"].append(summary.album_type)
            c["total_tracks"].append(summary.total_tracks)
            c["image_url"].append(image)
            default_url = summary.spotify_url == _ALBUM_URL + summary.id
            c["spotify_url"].append(None if default_url else summary.spotify_url or "")
            c["score"].append(round(score, 2))
            c["title_w"].append(words(summary.name))
            rank = a.rank or Rank(None)
            c["year"].append(rank.year)
            c["est"].append(None if rank.est is None else round(rank.est, 3))
            c["err"].append(round(rank.err, 1))
            flat: list[int] = []
            for list_id, pos in rank.lists:
                if list_id not in list_no:
                    list_no[list_id] = len(idx.list_ids)
                    idx.list_ids.append(list_id)
                flat += [list_no[list_id], pos]
            c["lists"].append(flat)
        idx._prepare()
        return idx

    def dumps(self) -> bytes:
        state = {name: getattr(self, name) for name in _STORED}
        state["format"] = FORMAT
        return zlib.compress(pickle.dumps(state, protocol=5), 9)

    @classmethod
    def loads(cls, blob: bytes) -> Tier1Index:
        # Hundreds of thousands of small lists and strings, none of them cyclic: the cyclic GC
        # would only rescan them again and again while they are built.
        enabled = gc.isenabled()
        gc.disable()
        try:
            try:
                raw = zlib.decompress(blob)
            except zlib.error as exc:
                raise ValueError(f"unreadable index: {exc}") from exc
            if raw[:1] == b"{":  # format 3, written before the pickled layout: columns only
                doc = json.loads(raw)
                if doc.get("format") != _JSON_FORMAT:
                    raise ValueError(f"unsupported index format {doc.get('format')!r}")
                idx = cls(version=doc["version"], built_at=doc["built_at"], cols=doc["cols"], artists=doc["artists"],
                          catalog_size=doc.get("catalog_size", 0), list_ids=doc.get("list_ids", []),
                          searched=doc.get("searched", []), artist_links=doc.get("artist_links", []))  # fmt: skip
                idx._prepare()
                return idx
            try:
                state = _DataOnlyUnpickler(io.BytesIO(raw)).load()
            except (pickle.UnpicklingError, EOFError) as exc:
                raise ValueError(f"unreadable index: {exc}") from exc
            if not isinstance(state, dict) or state.get("format") != FORMAT or not set(_STORED) <= state.keys():
                raise ValueError("unsupported index format")
            idx = cls()
            for name in _STORED:
                setattr(idx, name, state[name])
            idx._lazy_tokens()
            return idx
        finally:
            if enabled:
                gc.enable()

    def __len__(self) -> int:
        return len(self.cols["id"])

    def _prepare(self) -> None:
        """Folded names, postings (ascending = rank order), sorted vocabulary, artists."""
        n = len(self)
        self.title_w: list[str] = self.cols["title_w"]
        self.artist_w: list[str] = []
        title_tok: list[frozenset[str] | None] = []
        artist_tok: list[frozenset[str] | None] = []
        post: dict[str, list[int]] = {}
        artist_tokens = [frozenset(index_tokens(w)) for _, _, w in self.artists]
        # artist id -> [name, folded words, best album position, row in the artist table]
        self.artist_info: dict[str, list] = {}
        artist_post: dict[str, list[str]] = {}
        c = self.cols
        for i in range(n):
            tt = frozenset(index_tokens(self.title_w[i]))
            each = []
            atoks: frozenset[str] = frozenset()
            for pos in c["artists"][i]:
                aid, aname, w = self.artists[pos]
                each.append(w)
                atoks = atoks | artist_tokens[pos] if atoks else artist_tokens[pos]
                if aid not in self.artist_info:
                    self.artist_info[aid] = [aname, w, i, pos]
                    for t in artist_tokens[pos]:
                        artist_post.setdefault(t, []).append(aid)
            title_tok.append(tt)
            artist_tok.append(atoks)
            self.artist_w.append(" ".join(each))
            for t in tt | atoks:
                post.setdefault(t, []).append(i)
        # Postings packed: album positions of vocab[k] are postings[offsets[k]:offsets[k + 1]],
        # so a prefix's albums are one slice (its words are adjacent in the sorted vocabulary).
        self.vocab = sorted(post)
        postings, offsets = array("i"), array("i", [0])
        for token in self.vocab:
            postings.extend(post[token])
            offsets.append(len(postings))
        self.postings, self.offsets = postings.tobytes(), offsets.tobytes()
        self.artist_post = artist_post
        self.artist_vocab = sorted(artist_post)
        # Spotify's order inside a match class is popularity: our estimate, unknown ones last
        fallback = float(self.catalog_size or n)
        self.pop_key = [fallback if e is None else e for e in c["est"]]
        self.swept = any(span(list_id)[0] != "s" for list_id in self.list_ids)
        self.searched_page = {q: n for n, q in enumerate(self.searched)}
        self._lazy_tokens(title_tok, artist_tok)

    def _lazy_tokens(self, title_tok: list | None = None, artist_tok: list | None = None) -> None:
        """Views on the packed postings; token sets per album, filled on first use after a load."""
        self._postings = memoryview(self.postings).cast("i")
        self._offsets = memoryview(self.offsets).cast("i")
        self._title_tok: list[frozenset[str] | None] = title_tok or [None] * len(self)
        self._artist_tok: list[frozenset[str] | None] = artist_tok or [None] * len(self)

    def title_tokens(self, i: int) -> frozenset[str]:
        tokens = self._title_tok[i]
        if tokens is None:
            tokens = self._title_tok[i] = frozenset(index_tokens(self.title_w[i]))
        return tokens

    def artist_tokens(self, i: int) -> frozenset[str]:
        tokens = self._artist_tok[i]
        if tokens is None:
            tokens = frozenset()
            for pos in self.cols["artists"][i]:
                tokens = tokens | index_tokens(self.artists[pos][2])
            tokens = self._artist_tok[i] = tokens
        return tokens

    def rank(self, i: int) -> Rank:
        """What the sweep knows about album ``i`` (built on demand: only answers need it)."""
        c, ids = self.cols, self.list_ids
        flat = c["lists"][i]
        lists = tuple((ids[flat[j]], flat[j + 1]) for j in range(0, len(flat), 2))
        return Rank(c["year"][i], c["est"][i], c["err"][i], lists)

    # -- matching ----------------------------------------------------------------------------

    def _term_set(self, term: str, unspaced: bool, prefix: bool) -> set[int]:
        vocab = self.vocab
        first = bisect_left(vocab, term)
        if unspaced or not prefix:
            last = first + 1 if first < len(vocab) and vocab[first] == term else first
        else:
            last = bisect_right(vocab, term + "\U0010ffff", first)  # every word starting with term
        return set(self._postings[self._offsets[first] : self._offsets[last]])

    def _candidates(self, terms: list[tuple[str, bool]], prefix: list[bool]) -> set[int]:
        """Albums matching every term (a term with ``prefix`` also matches longer words)."""
        sets = []
        for (t, u), p in zip(terms, prefix, strict=True):
            found = self._term_set(t, u, p)
            if not found:
                return set()
            sets.append(found)
        sets.sort(key=len)
        result = sets[0]
        for s in sets[1:]:
            result = result & s
            if not result:
                break
        return result

    def match_class(self, i: int, q: str, terms: list[tuple[str, bool]]) -> int:
        title = self.title_w[i]
        artist = self.artist_w[i]
        if q == title:
            return EXACT
        if q in (f"{artist} {title}", f"{title} {artist}"):
            return ARTIST_TITLE
        if title.startswith(q + " ") or (title.startswith(q) and len(q) >= 3):
            return TITLE_PREFIX
        if q in title:
            return PHRASE
        if q == artist:  # all credited artists, as Spotify compares them
            return ARTIST
        tt = self.title_tokens(i)
        if all(t in tt for t, _ in terms):
            return ALL_IN_TITLE
        at = self.artist_tokens(i)
        if all(t in tt or t in at for t, _ in terms):
            return MIXED
        return PARTIAL

    def image(self, i: int) -> str | None:
        stored = self.cols["image_url"][i]
        return None if not stored else (stored[1:] if stored[0] == "=" else _IMAGE_PREFIX + stored)

    def artist_refs(self, i: int) -> list[ArtistRef]:
        return [ArtistRef(id=self.artists[p][0], name=self.artists[p][1], spotify_url=self.artist_url(p))
                for p in self.cols["artists"][i]]  # fmt: skip

    def artist_url(self, p: int) -> str | None:
        """Artist ``p``'s link back to Spotify: stored when not the usual one (older artifacts: derived)."""
        link = self.artist_links[p] if p < len(self.artist_links) else None
        return _ARTIST_URL + self.artists[p][0] if link is None else (link or None)

    def artist_name(self, i: int) -> str:
        stored = self.cols["artist_name"][i]
        return stored if stored is not None else ", ".join(self.artists[p][1] for p in self.cols["artists"][i])

    def summary(self, i: int) -> AlbumSummary:
        c = self.cols
        return AlbumSummary(
            id=c["id"][i],
            name=c["name"][i],
            artists=self.artist_refs(i),
            artist_name=self.artist_name(i),
            release_date=c["release_date"][i],
            release_date_precision=c["release_date_precision"][i],
            total_tracks=c["total_tracks"][i] or 0,
            album_type=c["album_type"][i],
            image_url=self.image(i),
            spotify_url=self.spotify_url(i),
        )

    def spotify_url(self, i: int) -> str | None:
        url = self.cols["spotify_url"][i]
        return _ALBUM_URL + self.cols["id"][i] if url is None else (url or None)

    def ranked(self, query: str) -> tuple[str, list[tuple[int, int]]]:
        """(folded query, [(class, position)] of every match, best first)."""
        q = words(query)
        terms = query_terms(q)
        if not terms:
            return q, []
        cands = self._candidates(terms, [len(t) >= 2 for t, _ in terms])
        pop = self.pop_key
        scored = sorted((-self.match_class(i, q, terms), pop[i], i) for i in cands)
        return q, [(-c, i) for c, _, i in scored]

    # -- the two questions -------------------------------------------------------------------

    def answer(self, query: str, *, limit: int, offset: int, margin: float = 0.0) -> SearchPage | None:
        """A /search page when confident (see CONFIDENCE_RULE), else None."""
        if offset != 0 or not self.catalog_size:
            return None
        q, ranked = self.ranked(query)
        return self.answer_ranked(q, ranked, limit=limit, margin=margin)

    def answer_ranked(
        self, q: str, ranked: list[tuple[int, int]], *, limit: int, margin: float = 0.0
    ) -> SearchPage | None:
        """:meth:`answer` for a query already ranked (offset 0). ``margin`` (a share of the catalog,
        set by the calibration in ``musicboxd.services.verification``) also requires same-class
        neighbours' popularity estimates to be at least that far apart: a known order that close
        is the first to flip when Spotify's ranking drifts."""
        if len(q) < 2 or not ranked or not self.catalog_size:
            return None
        head = ranked[: min(limit, 5) + 1]
        if not self.swept and not self.from_searched_page(q, ranked, limit=limit):
            return None
        gap = margin * self.catalog_size
        pop = self.pop_key
        for (c1, i), (c2, j) in zip(head, head[1:], strict=False):
            if c1 == c2 and (not ordered(self.rank(i), self.rank(j)) or abs(pop[i] - pop[j]) < gap):
                return None
        return SearchPage(items=[self.summary(i) for _, i in ranked[:limit]], total=len(ranked))

    def from_searched_page(self, q: str, ranked: list[tuple[int, int]], *, limit: int) -> bool:
        """``q`` was searched and Spotify's answer to it (cached page n) held each of the index's
        first k + 1 matches: the answer is Spotify's own first page, not a prediction (shape
        ``searched`` in the calibration, docs/design/tier1-verification.md)."""
        page = self.searched_page.get(q)
        if page is None or not ranked:
            return False
        prefix = f"s{page}."
        ids, lists = self.list_ids, self.cols["lists"]
        return all(any(ids[flat[j]].startswith(prefix) for j in range(0, len(flat), 2))
                   for flat in (lists[i] for _, i in ranked[: min(limit, 5) + 1]))  # fmt: skip

    def suggest(self, query: str, *, limit: int) -> list[Suggestion]:
        """Typeahead: every word must match, the last one as a prefix; albums and artists."""
        q = words(query)
        terms = query_terms(q)
        if not terms or len(self) == 0:
            return []
        cands = self._candidates(terms, [j == len(terms) - 1 for j in range(len(terms))])
        c = self.cols
        scored: list[tuple[int, int, int, Suggestion]] = []

        def quality(name_w: str, toks: frozenset[str]) -> int:
            if name_w == q:
                return 4
            if name_w.startswith(q):
                return 3
            if f" {q}" in f" {name_w}":
                return 2
            return 1 if all(t in toks or (not u and any(k.startswith(t) for k in toks)) for t, u in terms) else 0

        for i in cands:
            # "bjork homo" is a prefix of "bjork homogenic": score the title and "artist title"
            qual = max(
                quality(self.title_w[i], self.title_tokens(i)),
                quality(f"{self.artist_w[i]} {self.title_w[i]}", self.title_tokens(i) | self.artist_tokens(i)) - 1,
            )
            sug = Suggestion("album", c["id"][i], c["name"][i], self.artist_name(i), self.image(i), self.spotify_url(i))
            scored.append((qual, 0, i, sug))
        # artists whose own name matches every term
        artist_ids: set[str] | None = None
        for j, (t, u) in enumerate(terms):
            last = j == len(terms) - 1
            ids: set[str] = set()
            if u or not last:
                ids.update(self.artist_post.get(t, ()))
            else:
                k = bisect_left(self.artist_vocab, t)
                while k < len(self.artist_vocab) and self.artist_vocab[k].startswith(t):
                    ids.update(self.artist_post[self.artist_vocab[k]])
                    k += 1
            artist_ids = ids if artist_ids is None else artist_ids & ids
            if not artist_ids:
                break
        for aid in artist_ids or ():
            name, name_w, best, row = self.artist_info[aid]
            qual = quality(name_w, frozenset(index_tokens(name_w)))
            # an artist ranks with its best album, and just above it on equal quality
            artist = Suggestion("artist", aid, name, name, self.image(best), self.artist_url(row))
            scored.append((qual, 1, best, artist))
        scored.sort(key=lambda s: (-s[0], s[2], -s[1]))
        return [s[3] for s in scored[:limit]]
