"""Tier-1 search use cases: rebuild the index, hold it in memory, answer from it (docs/design/tier1.md).

Paging a tier-1 answer: docs/design/pagination.md."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable

from musicboxd.errors import CacheUnavailable
from musicboxd.index import ranks
from musicboxd.index.core import IndexedAlbum, Suggestion, Tier1Index
from musicboxd.index.text import query_terms, words
from musicboxd.models import SearchPage
from musicboxd.ports import (
    DemandCounts,
    IndexPointer,
    IndexStore,
    PopularAlbumSource,
    RankedIndex,
    SearchedPages,
    SweepPage,
    SweepStore,
)

log = logging.getLogger(__name__)


def rebuild_index(
    source: PopularAlbumSource,
    store: IndexStore,
    *,
    demand: DemandCounts | None = None,
    sweeps: SweepStore | None = None,
    searched: SearchedPages | None = None,
    clock: Callable[[], float] = time.time,
    max_albums: int = 50_000,
) -> IndexPointer:
    """Build the index and make it current: the popularity sweep, the fresh popular tier, and the
    albums of cached search pages, whose order teaches us popularity among equal matches.

    At most ``max_albums`` albums (``INDEX_MAX_ALBUMS``), the best ranked: Spotify's terms allow no
    database of its content beyond what the service needs (docs/compliance.md)."""
    now = clock()
    counts = demand.demand() if demand is not None else {}
    sweep_pages = list(sweeps.pages()) if sweeps is not None else []
    sweep = ranks.from_pages(sweep_pages)
    popular = [c for c in source.popular_albums() if c.album is not None and c.fresh(now)]
    pages = list(searched.searched_pages()) if searched is not None else []
    if pages:  # runs of equal matches in Spotify's pages are popularity orders: lists "s<n>"
        # (every album of a page is kept, so an answer can name the page it came from)
        sweep = ranks.from_pages(sweep_pages + _equal_match_runs(pages))
    # the queries users asked: without a sweep the index answers only these (CONFIDENCE_RULE 2);
    # with one, an answer that is such a page is calibrated as its own shape ("searched")
    asked = [query for query, _ in pages]
    index = _build(list(sweep.summaries.values()), popular, sweep, counts, now, asked, max_albums)
    body = index.dumps()
    version = f"{int(now)}-{hashlib.sha256(body).hexdigest()[:8]}"
    index.version = version
    blob = index.dumps()  # the version is part of the artifact, so a loaded index knows itself
    return store.save(blob, version=version, built_at=now, albums=len(index))


def _build(summaries, popular, sweep: ranks.Sweep, counts, now: float, asked: list[str],
           max_albums: int) -> Tier1Index:  # fmt: skip
    albums: dict[str, IndexedAlbum] = {}
    for c in popular:
        summary = c.album.summary()
        albums[summary.id] = IndexedAlbum(
            summary=summary, demand=float(counts.get(summary.id, 0.0)), popularity=c.album.popularity,
            tier=c.tier, rank=sweep.rank_of(summary), catalog_size=sweep.catalog_size,
        )  # fmt: skip
    for summary in summaries:
        if summary.id not in albums:
            albums[summary.id] = IndexedAlbum(
                summary=summary, demand=float(counts.get(summary.id, 0.0)), tier="sweep",
                rank=sweep.rank_of(summary), catalog_size=sweep.catalog_size,
            )  # fmt: skip
    now_year = dt.datetime.fromtimestamp(now, dt.UTC).year
    return Tier1Index.build(albums.values(), version="", built_at=now, now_year=now_year,
                            catalog_size=sweep.catalog_size, searched=asked, max_albums=max_albums)  # fmt: skip


def _equal_match_runs(pages) -> list[SweepPage]:
    """For each cached page ``n``, its runs of albums with one match class (our ladder = Spotify's),
    as lists ``s<n>.<class>`` (a run of one too: it says the album was on the page)."""
    seen = {a.id: a for _, page in pages for a in page.items}
    index = Tier1Index.build([IndexedAlbum(a) for a in seen.values()], version="", built_at=0, now_year=0)
    position = {album_id: i for i, album_id in enumerate(index.cols["id"])}
    out: list[SweepPage] = []
    for n, (query, page) in enumerate(pages):
        q = words(query)
        terms = query_terms(q)
        run: list = []
        last = None
        for album in [*page.items, None]:
            cls = index.match_class(position[album.id], q, terms) if album is not None else None
            if cls != last or album is None:
                if run:
                    out.append(SweepPage(f"s{n}.{last}", 0, len(run), tuple(run)))
                run, last = [], cls
            if album is not None:
                run.append(album)
    return out


def list_page(index: RankedIndex, ranked: list[tuple[int, int]], *, limit: int, offset: int) -> SearchPage:
    """The page [offset, offset + limit) of the index's ranked list for a query; ``total`` is the list's length."""
    return SearchPage(items=[index.summary(i) for _, i in ranked[offset : offset + limit]], total=len(ranked))


EMPTY_RECHECK_SECONDS = 5.0  # while no index is loaded: one small GetItem per 5 s at most


class Tier1Holder:
    """The container's in-memory index, refreshed lazily; implements the Tier1Search port."""

    def __init__(
        self,
        store: IndexStore,
        *,
        recheck_seconds: float = 300,
        empty_recheck_seconds: float = EMPTY_RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        search_enabled: bool = True,
    ):
        self._store = store
        self._recheck = recheck_seconds
        self._empty_recheck = min(empty_recheck_seconds, recheck_seconds)
        self._clock = clock
        self._search_enabled = search_enabled
        self._index: Tier1Index | None = None
        self._checked_at: float | None = None
        self._lock = threading.Lock()
        self.loads = 0  # versions loaded by this container (tests, logs)
        self.load_seconds = 0.0

    def _fresh(self, now: float) -> bool:
        """Checked recently enough: soon after the last look while empty, every interval once loaded."""
        interval = self._recheck if self._index is not None else self._empty_recheck
        return self._checked_at is not None and now - self._checked_at < interval

    def index(self) -> Tier1Index | None:
        now = self._clock()
        if self._fresh(now):
            return self._index
        with self._lock:
            if self._fresh(now):
                return self._index
            self._checked_at = now
            try:
                pointer = self._store.current()
                if pointer is not None and (self._index is None or pointer.version != self._index.version):
                    started = time.perf_counter()
                    self._index = Tier1Index.loads(self._store.load(pointer))
                    self.load_seconds = time.perf_counter() - started
                    self.loads += 1
                    log.info(
                        "tier-1 index %s loaded: %d albums in %.0f ms",
                        pointer.version,
                        len(self._index),
                        self.load_seconds * 1000,
                    )
            except (CacheUnavailable, ValueError) as exc:  # keep what we have, retry after the interval
                log.warning("tier-1 index not refreshed: %s", exc)
        return self._index

    def after_restore(self) -> None:
        """A SnapStart copy: the snapshot's index may be weeks old; check the pointer on first use."""
        with self._lock:
            self._checked_at = None

    @property
    def version(self) -> str | None:
        return self._index.version if self._index is not None else None

    def answer(self, query: str, *, limit: int, offset: int) -> SearchPage | None:
        """Any page of the index's list for ``query`` when the index is confident about its first page."""
        if not self._search_enabled:
            return None
        index = self.index()
        if index is None:
            return None
        q, ranked = index.ranked(query)
        if index.answer_ranked(q, ranked, limit=limit) is None:
            return None
        return list_page(index, ranked, limit=limit, offset=offset)

    def suggest(self, query: str, *, limit: int) -> list[Suggestion]:
        index = self.index()
        return [] if index is None else index.suggest(query, limit=limit)
