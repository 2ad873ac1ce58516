"""Populate: fill the popular tier and the tier-1 sweep from sources that still exist, within a hard call budget.

A run has three phases, all checkpointed in the table as they go (every page/batch; the sweep every few pages):

1. collect candidates, source by source (each album remembers the first source that
   brought it): ``demand`` (albums and queries users asked for most since the last run),
   ``new_releases`` (``/browse/new-releases`` in extended mode, then search ``tag:new``),
   ``playlists`` (``/playlists/{id}/items`` of the configured public playlists);
2. fetch details of the candidates not fresh in the cache (extended mode: ``/albums?ids=``,
   20 per call; development mode: one album per call) and write them to the popular tier;
3. sweep (when a sweep store is wired): Spotify's own popularity order, read from filter-only
   searches - ``year:<from>-<this year>`` (the most popular albums overall), one page of
   ``year:<Y>`` per year back to ``sweep_from_year`` (its total), then consecutive years grouped
   into ranges a search can page through whole (offset <= 1000; one list per range makes the
   order across its years exact), and for a year bigger than that, the rest of ``year:<Y>`` and
   (up to ``HIPSTER_MAX_FACTOR`` times bigger) ``year:<Y> tag:hipster``. Pages go to the sweep
   store as they arrive; the tier-1 index is built from them (``musicboxd.index.ranks``). One
   call per page (10 albums in development mode, 50 in extended mode), no album-detail calls; a
   long sweep resumes in the next run.

The run stops cleanly, checkpoint saved, when the call budget is spent, when the Lambda is
about to time out, or on a 429 (then ``not_before`` keeps later runs away until Spotify's
``Retry-After`` has passed). The next invocation resumes where it stopped.
Calls are counted by observing the Spotify adapter (``meter``), never estimated after the fact.

No AWS or HTTP imports: everything comes in through the ports below.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from musicboxd.errors import CacheUnavailable, Forbidden, NotFound, RateLimited, Unavailable
from musicboxd.models import Album, SearchPage
from musicboxd.ports import TIER_POPULAR, SweepPage, SweepStore
from musicboxd.services.usage import DEMAND_ALBUM, DEMAND_QUERY, days_between

JOB = "populate"
SOURCES = ("demand", "new_releases", "playlists")
BATCH = 20  # albums per progress batch (= one /albums?ids= call in extended mode)
TRACKS_IN_ALBUM = 50  # tracks embedded in an album object; more need /albums/{id}/tracks pages
PAGE_EXTENDED = 50
MAX_OFFSET = 1000
SWEEP_SAVE_EVERY = 10  # sweep pages between checkpoint saves (and at the end of every list)
HIPSTER_MAX_FACTOR = 4  # a big year's least popular are read only if it has <= 4x what a search pages


# ----------------------------------------------------------------------------- ports


class PopulateCatalog(Protocol):
    """The Spotify adapter (``SpotifyCatalog`` satisfies it)."""

    def search_raw(self, query: str, *, limit: int, offset: int) -> dict[str, Any]: ...

    def search_albums(self, query: str, *, limit: int, offset: int) -> SearchPage: ...

    def get_json(self, path_or_url: str, params: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def get_albums(self, album_ids: list[str]) -> list[Album]: ...


class CallMeter(Protocol):
    """Spotify calls observed so far (fed by the adapter's ``observe`` callback)."""

    @property
    def used(self) -> int: ...


class PopularStore(Protocol):
    def album_expiries(self, album_ids: list[str]) -> dict[str, float]: ...

    def put_popular(self, album: Album, *, tier: str, ttl_seconds: int, source: str) -> None: ...

    def put_missing(self, album_id: str, *, ttl_seconds: int) -> None: ...


class CheckpointStore(Protocol):
    def load(self, name: str) -> dict[str, Any] | None: ...

    def save(self, name: str, state: dict[str, Any]) -> None: ...


class DemandReader(Protocol):
    def top_demand(self, days: list[str], *, max_items: int = ...) -> dict[str, int]: ...


class Lease(Protocol):
    def acquire(self, name: str, *, ttl_seconds: float) -> bool: ...

    def release(self, name: str) -> None: ...


# ----------------------------------------------------------------------------- options / report


@dataclass(frozen=True)
class PopulateOptions:
    budget: int = 500
    sources: tuple[str, ...] = SOURCES
    playlists: tuple[str, ...] = ()
    extended: bool = False
    search_page: int = 10  # the mode's search page cap
    market: str = "US"
    max_per_source: int = 200
    top_queries: int = 20
    popular_ttl_seconds: int = 10 * 86_400
    negative_ttl_seconds: int = 3600
    fresh_margin_seconds: int = 7 * 86_400  # skip albums that stay fresh at least this long
    reserve_seconds: float = 10.0  # stop when the invocation has less time left than this
    force: bool = False  # ignore not_before (a previous 429) and start even then
    sweep: bool = True  # phase 3 (needs a sweep store)
    sweep_from_year: int = 1950
    sweep_ttl_seconds: int = 21 * 86_400  # three weekly runs: a stalled sweep still leaves its pages
    restart: bool = False  # drop an unfinished run and start a new one
    resume_only: bool = False  # the hourly schedule: continue an unfinished run, never start one


@dataclass
class Progress:
    phase: str  # collect | fetch | sweep
    done: int
    total: int
    calls: int  # this invocation
    budget: int
    cached: int  # this invocation
    source: str = ""


@dataclass
class PopulateReport:
    status: str  # done | stopped | deferred | busy | idle
    reason: str | None
    run_id: str
    resumed: bool
    calls: int  # Spotify calls this invocation
    albums_cached: int  # this invocation
    skipped_fresh: int
    missing: int
    candidates: int
    done: int
    by_source: dict[str, int] = field(default_factory=dict)
    run_calls: int = 0  # whole run, across resumes
    run_albums_cached: int = 0
    not_before: float | None = None
    seconds: float = 0.0
    sweep_pages: int = 0  # whole run: pages of Spotify's popularity order stored for the index
    sweep_albums: int = 0

    @property
    def albums_per_call(self) -> float:
        return round(self.albums_cached / self.calls, 3) if self.calls else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "albums_per_call": self.albums_per_call}


class _Stop(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ----------------------------------------------------------------------------- service


class PopulateService:
    def __init__(
        self,
        catalog: PopulateCatalog,
        store: PopularStore,
        checkpoints: CheckpointStore,
        meter: CallMeter,
        *,
        demand: DemandReader | None = None,
        lease: Lease | None = None,
        sweeps: SweepStore | None = None,
        log: Callable[[str, dict[str, Any]], None] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self._sweeps = sweeps
        self._catalog = catalog
        self._store = store
        self._checkpoints = checkpoints
        self._meter = meter
        self._demand = demand
        self._lease = lease
        self._log = log or (lambda message, extra: None)
        self._clock = clock

    # -- entry point

    def run(
        self,
        options: PopulateOptions,
        *,
        remaining: Callable[[], float] = lambda: math.inf,
        progress: Callable[[Progress], None] | None = None,
    ) -> PopulateReport:
        started = time.monotonic()
        now = self._clock()
        state = self._checkpoints.load(JOB)
        if state and not options.force and (state.get("not_before") or 0) > now:
            return self._report(state, "deferred", "rate_limited", 0, started, resumed=False)
        if options.resume_only and (not state or state.get("status") == "done"):
            return self._report(state or _new_state(now, now), "idle", "nothing to resume", 0, started, resumed=False)
        if self._lease is not None and not self._lease.acquire(JOB, ttl_seconds=max(60.0, min(remaining(), 3600))):
            return self._report(
                state or _new_state(now, now), "busy", "another run holds the lease", 0, started, resumed=False
            )
        try:
            return self._run(state, options, now, started, remaining, progress)
        finally:
            if self._lease is not None:
                self._lease.release(JOB)

    def _run(self, state, options, now, started, remaining, progress) -> PopulateReport:
        resumed = bool(state) and state.get("status") != "done" and not options.restart
        if not resumed:
            previous = state or {}
            since = previous.get("completed_at") or previous.get("started_at") or now - options.fresh_margin_seconds
            state = _new_state(now, since)
        state["resumes"] = state.get("resumes", 0) + (1 if resumed else 0)
        state["not_before"] = None
        self._calls_start = self._meter.used
        self._cached_now = 0
        self._opts = options
        self._remaining = remaining
        self._progress = progress
        self._state = state
        self._seen = {c[0] for c in state["candidates"]}
        status, reason = "done", None
        try:
            self._collect()
            self._fetch()
            if self._opts.sweep and self._sweeps is not None:
                self._sweep()
            state["status"] = "done"
            state["completed_at"] = self._clock()
        except _Stop as stop:
            status, reason = "stopped", stop.reason
        except RateLimited as exc:
            status, reason = "stopped", self._rate_limited(exc)
        finally:
            calls = self._calls()
            state["calls"] = state.get("calls", 0) + calls
            if status != "done":
                state["status"] = "stopped"
                state["stop_reason"] = reason
            self._save()
        report = self._report(state, status, reason, calls, started, resumed=resumed)
        self._log(
            "populate finished" if status == "done" else "populate stopped",
            {k: v for k, v in report.as_dict().items() if k != "by_source"} | {"by_source": report.by_source},
        )
        return report

    # -- collect

    def _collect(self) -> None:
        st = self._state
        for source in self._opts.sources:
            if source in st["collected"]:
                continue
            if source == "demand":
                self._collect_demand()
            elif source == "new_releases":
                self._collect_new_releases()
            elif source == "playlists":
                self._collect_playlists()
            else:
                self._log("unknown populate source ignored", {"source": source})
            st["collected"].append(source)
            self._save()

    def _collect_demand(self) -> None:
        st = self._state
        pos = st["pos"].setdefault("demand", {})
        if "queries" not in pos:
            counts: dict[str, int] = {}
            if self._demand is not None:
                try:
                    counts = self._demand.top_demand(days_between(st["since"], self._clock()))
                except CacheUnavailable as exc:
                    self._log("demand counters unreadable; skipping demand", {"error": str(exc)})
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            albums = [k.removeprefix(DEMAND_ALBUM) for k, _ in ranked if k.startswith(DEMAND_ALBUM)]
            for album_id in albums[: self._opts.max_per_source]:
                self._add(album_id, "demand", None)
            queries = [k.removeprefix(DEMAND_QUERY) for k, _ in ranked if k.startswith(DEMAND_QUERY)]
            pos["queries"] = queries[: self._opts.top_queries]
            pos["next"] = 0
            self._save()
        while pos["next"] < len(pos["queries"]) and self._source_count("demand") < self._opts.max_per_source:
            self._check("collect")
            query = pos["queries"][pos["next"]]
            try:
                data = self._catalog.search_raw(query, limit=self._opts.search_page, offset=0)
            except (NotFound, Forbidden, Unavailable) as exc:
                self._log("demand query failed; skipped", {"query": query, "error": str(exc)})
                data = {}
            for raw in (data.get("albums") or {}).get("items") or []:
                self._add_raw(raw, "demand")
            pos["next"] += 1
            self._collected_page("demand")

    def _collect_new_releases(self) -> None:
        pos = self._state["pos"].setdefault("new_releases", {"browse": 0, "search": 0, "browse_done": False})
        cap = self._opts.max_per_source
        if self._opts.extended:
            while not pos["browse_done"] and self._source_count("new_releases") < cap:
                self._check("collect")
                try:
                    data = self._catalog.get_json(
                        "/browse/new-releases", {"limit": PAGE_EXTENDED, "offset": pos["browse"]}
                    )
                except (NotFound, Forbidden, Unavailable) as exc:
                    self._log("new-releases unavailable; using search tag:new only", {"error": str(exc)})
                    pos["browse_done"] = True
                    break
                page = data.get("albums") or {}
                items = page.get("items") or []
                for raw in items:
                    self._add_raw(raw, "new_releases")
                pos["browse"] += len(items)
                if not items or not page.get("next") or pos["browse"] >= MAX_OFFSET:
                    pos["browse_done"] = True
                self._collected_page("new_releases")
        limit = self._opts.search_page
        while self._source_count("new_releases") < cap and pos["search"] < MAX_OFFSET and pos["search"] >= 0:
            self._check("collect")
            try:
                data = self._catalog.search_raw("tag:new", limit=limit, offset=pos["search"])
            except (NotFound, Forbidden, Unavailable) as exc:
                self._log("search tag:new failed; source ends here", {"error": str(exc)})
                break
            page = data.get("albums") or {}
            items = page.get("items") or []
            for raw in items:
                self._add_raw(raw, "new_releases")
            pos["search"] += len(items)
            self._collected_page("new_releases")
            if not items or not page.get("next") or len(items) < limit:
                pos["search"] = -1  # exhausted
                break

    def _collect_playlists(self) -> None:
        pos = self._state["pos"].setdefault("playlists", {"index": 0, "next": None})
        playlists = list(self._opts.playlists)
        while pos["index"] < len(playlists) and self._source_count("playlists") < self._opts.max_per_source:
            self._check("collect")
            playlist_id = playlists[pos["index"]]
            try:
                if pos["next"]:
                    data = self._catalog.get_json(pos["next"])
                else:
                    data = self._catalog.get_json(
                        f"/playlists/{playlist_id}/items",
                        {"limit": PAGE_EXTENDED, "offset": 0, "market": self._opts.market},
                    )
            except (NotFound, Forbidden, Unavailable) as exc:
                self._log("playlist unreadable; skipped", {"playlist": playlist_id, "error": str(exc)})
                data = {}
            for entry in data.get("items") or []:
                track = (entry or {}).get("item") or (entry or {}).get("track") or {}
                if track.get("type", "track") == "track" and not track.get("is_local"):
                    self._add_raw(track.get("album") or {}, "playlists")
            pos["next"] = data.get("next")
            if not pos["next"]:
                pos["index"] += 1
            self._collected_page("playlists")

    def _add_raw(self, raw: dict[str, Any], source: str) -> None:
        if raw and raw.get("id") and self._source_count(source) < self._opts.max_per_source:
            self._add(raw["id"], source, raw.get("total_tracks"))

    def _add(self, album_id: str, source: str, total_tracks: int | None) -> None:
        st = self._state
        if album_id in self._seen:
            return
        self._seen.add(album_id)
        st["candidates"].append([album_id, source, total_tracks])
        st["sourced"][source] = st["sourced"].get(source, 0) + 1

    def _source_count(self, source: str) -> int:
        return self._state["sourced"].get(source, 0)

    def _collected_page(self, source: str) -> None:
        st = self._state
        self._save()
        self._emit(
            Progress(
                "collect",
                len(st["candidates"]),
                len(st["candidates"]),
                self._calls(),
                self._opts.budget,
                self._cached_now,
                source,
            )
        )

    # -- fetch

    def _fetch(self) -> None:
        st = self._state
        candidates = st["candidates"]
        while st["next"] < len(candidates):
            self._check("fetch")
            batch = candidates[st["next"] : st["next"] + BATCH]
            expiries = self._store.album_expiries([c[0] for c in batch])
            fresh_until = self._clock() + self._opts.fresh_margin_seconds
            todo = [c for c in batch if expiries.get(c[0], 0) <= fresh_until]
            st["skipped_fresh"] += len(batch) - len(todo)
            if not todo:
                st["next"] += len(batch)
                self._after_batch()
                continue
            affordable = self._affordable(todo)
            if not affordable:
                raise _Stop("budget")
            if len(affordable) < len(todo):
                # fetch what fits, then stop with the rest left for the next run
                self._fetch_batch(affordable, upto=_index_after(candidates, affordable[-1][0], st["next"]))
                raise _Stop("budget")
            self._fetch_batch(todo, upto=st["next"] + len(batch))
            self._after_batch()

    def _fetch_batch(self, todo: list[list[Any]], *, upto: int) -> None:
        """Fetch ``todo`` and advance ``next`` to ``upto`` (skipped fresh ones included)."""
        st = self._state
        sources = {c[0]: c[1] for c in todo}
        chunk = BATCH if self._opts.extended else 1
        for start in range(0, len(todo), chunk):
            if start and self._remaining() < self._opts.reserve_seconds:
                raise _Stop("deadline")  # ``next`` already covers what this batch cached
            ids = [c[0] for c in todo[start : start + chunk]]
            try:
                albums = self._catalog.get_albums(ids)
            except NotFound as exc:
                if len(ids) > 1:  # a batch answers null for unknown ids, never 404: treat as a failure
                    self._log("album batch failed; skipped", {"ids": ids, "error": str(exc)})
                    st["failed"] += len(ids)
                    continue
                albums = []
            except (Unavailable, Forbidden) as exc:
                self._log("album details failed; skipped", {"ids": ids, "error": str(exc)})
                st["failed"] += len(ids)
                continue
            found = {a.id for a in albums}
            for album in albums:
                self._put(album, sources.get(album.id, "unknown"))
            for missing in (i for i in ids if i not in found):
                st["missing"] += 1
                self._guard(self._store.put_missing, missing, ttl_seconds=self._opts.negative_ttl_seconds)
            # progress inside a batch is kept, so a 429 mid-batch loses nothing already cached
            last = todo[min(start + chunk, len(todo)) - 1][0]
            st["next"] = max(st["next"], _index_after(st["candidates"], last, st["next"]))
        st["next"] = max(st["next"], upto)

    def _put(self, album: Album, source: str) -> None:
        st = self._state
        if self._guard(
            self._store.put_popular, album, tier=TIER_POPULAR, ttl_seconds=self._opts.popular_ttl_seconds, source=source
        ):
            st["cached"] += 1
            st["by_source"][source] = st["by_source"].get(source, 0) + 1
            self._cached_now += 1

    def _guard(self, fn, *args, **kwargs) -> bool:
        try:
            fn(*args, **kwargs)
            return True
        except CacheUnavailable as exc:
            self._log("cache write failed", {"error": str(exc)})
            return False

    def _affordable(self, todo: list[list[Any]]) -> list[list[Any]]:
        """The longest prefix of ``todo`` whose estimated calls fit in what is left of the budget."""
        left = self._opts.budget - self._calls()
        out: list[list[Any]] = []
        cost = 0
        for i, candidate in enumerate(todo):
            extra = _extra_track_pages(candidate[2])
            step = extra + ((1 if i % BATCH == 0 else 0) if self._opts.extended else 1)
            if cost + step > left:
                break
            cost += step
            out.append(candidate)
        return out

    def _after_batch(self) -> None:
        st = self._state
        self._save()
        self._emit(
            Progress("fetch", st["next"], len(st["candidates"]), self._calls(), self._opts.budget, self._cached_now)
        )

    # -- sweep

    def _sweep(self) -> None:
        st = self._state
        sw = st.get("sweep")
        if sw is None:
            year = time.gmtime(self._clock()).tm_year
            first = min(self._opts.sweep_from_year, year)
            # [list id, query, first offset, probe?]: the global list, then one page per year (its total)
            lists = [[f"y{first}-{year}", f"year:{first}-{year}", 0, False]]
            lists += [[f"y{y}", f"year:{y}", 0, True] for y in range(year, first - 1, -1)]
            sw = st["sweep"] = {"lists": lists, "list": 0, "offset": 0, "pages": 0, "albums": 0, "totals": {},
                                "grouped": False}  # fmt: skip
        limit = self._opts.search_page
        while True:
            if sw["list"] >= len(sw["lists"]):
                if sw["grouped"]:
                    return
                sw["lists"] += _sweep_groups(sw["totals"], MAX_OFFSET + limit, limit)
                sw["grouped"] = True
                if sw["list"] < len(sw["lists"]):
                    sw["offset"] = sw["lists"][sw["list"]][2]
                continue
            list_id, query, _, probe = sw["lists"][sw["list"]]
            total = sw["totals"].get(list_id[1:]) if list_id[0] == "y" else None
            if total is not None and not probe and sw["offset"] >= total:
                self._next_list(sw, total)  # the probe already read the whole year
                continue
            self._check("sweep")
            try:
                page = self._catalog.search_albums(query, limit=limit, offset=sw["offset"])
            except (NotFound, Forbidden, Unavailable) as exc:
                self._log("sweep list unreadable; skipped", {"list": list_id, "error": str(exc)})
                page = SearchPage(items=[], total=0)
            if page.items:
                stored = SweepPage(list_id, sw["offset"], page.total, tuple(page.items))
                if not self._guard(self._sweeps.put_page, stored, ttl_seconds=self._opts.sweep_ttl_seconds):
                    raise _Stop("cache_unavailable")  # resume this page next run rather than leave a hole
                sw["pages"] += 1
                sw["albums"] += len(page.items)
            sw["offset"] += len(page.items)
            if probe:
                sw["totals"][list_id[1:]] = page.total
            if probe or not page.items or sw["offset"] >= page.total or sw["offset"] > MAX_OFFSET:
                self._next_list(sw, page.total)
            elif sw["pages"] % SWEEP_SAVE_EVERY:
                continue  # a stop saves the checkpoint anyway; a crash re-reads at most a few pages
            self._save()
            self._emit(Progress("sweep", sw["list"], len(sw["lists"]), self._calls(), self._opts.budget,
                                self._cached_now, list_id))  # fmt: skip

    @staticmethod
    def _next_list(sw: dict[str, Any], total: int) -> None:
        list_id, query, _, probe = sw["lists"][sw["list"]]
        if not probe and "-" not in list_id and sw["offset"] < total <= HIPSTER_MAX_FACTOR * sw["offset"]:
            # more albums that year than a search can page through: also read its least popular
            # (not for a year of millions, as on real Spotify: its bottom 1,000 would be noise)
            sw["lists"].append([f"h{list_id[1:]}", f"{query} tag:hipster", 0, False])
        sw["list"] += 1
        sw["offset"] = sw["lists"][sw["list"]][2] if sw["list"] < len(sw["lists"]) else 0

    # -- plumbing

    def _check(self, phase: str) -> None:
        if self._calls() >= self._opts.budget:
            raise _Stop("budget")
        if self._remaining() < self._opts.reserve_seconds:
            raise _Stop("deadline")

    def _calls(self) -> int:
        return self._meter.used - self._calls_start

    def _rate_limited(self, exc: RateLimited) -> str:
        if self._calls() >= self._opts.budget:
            return "budget"  # our own hard cap refused the call
        self._state["not_before"] = self._clock() + exc.retry_after
        self._log("Spotify rate-limited populate; run ends here", {"retry_after": exc.retry_after, "quota": exc.quota})
        return "rate_limited"

    def _save(self) -> None:
        self._checkpoints.save(JOB, self._state)

    def _emit(self, p: Progress) -> None:
        self._log(
            f"populate {p.phase}: {p.done}/{p.total} albums, {p.calls}/{p.budget} calls, {p.cached} cached",
            asdict(p),
        )
        if self._progress is not None:
            self._progress(p)

    def _report(self, state, status, reason, calls, started, *, resumed) -> PopulateReport:
        return PopulateReport(
            status=status,
            reason=reason,
            run_id=state.get("run_id", ""),
            resumed=resumed,
            calls=calls,
            albums_cached=getattr(self, "_cached_now", 0) if status in ("done", "stopped") else 0,
            skipped_fresh=state.get("skipped_fresh", 0),
            missing=state.get("missing", 0),
            candidates=len(state.get("candidates", [])),
            done=state.get("next", 0),
            by_source=dict(state.get("by_source", {})),
            run_calls=state.get("calls", 0),
            run_albums_cached=state.get("cached", 0),
            not_before=state.get("not_before"),
            seconds=round(time.monotonic() - started, 3),
            sweep_pages=(state.get("sweep") or {}).get("pages", 0),
            sweep_albums=(state.get("sweep") or {}).get("albums", 0),
        )


def _new_state(now: float, since: float) -> dict[str, Any]:
    return {
        "run_id": uuid.uuid4().hex[:12],
        "started_at": now,
        "since": since,
        "status": "running",
        "stop_reason": None,
        "not_before": None,
        "collected": [],
        "pos": {},
        "candidates": [],  # [album id, source, total_tracks or None]
        "sourced": {},
        "next": 0,
        "calls": 0,
        "cached": 0,
        "skipped_fresh": 0,
        "missing": 0,
        "failed": 0,
        "by_source": {},
        "resumes": 0,
    }


def _sweep_groups(totals: dict[str, int], cap: int, first_page: int) -> list[list[Any]]:
    """Consecutive years, newest first, grouped into year ranges a search can page through whole.

    One list per range makes the order of albums of different years exact; a year bigger than
    ``cap`` stays alone and is continued after its probe page (its hipster list follows it).
    """
    years = sorted((int(y) for y in totals), reverse=True)
    lists: list[list[Any]] = []
    group: list[int] = []
    size = 0

    def close() -> None:
        if len(group) == 1:  # continued after its probe page, stored under the same list id
            y = group[0]
            lists.append([f"y{y}", f"year:{y}", min(first_page, totals[str(y)]), False])
        elif group:
            lo, hi = group[-1], group[0]
            lists.append([f"y{lo}-{hi}", f"year:{lo}-{hi}", 0, False])

    for y in years:
        n = totals[str(y)]
        if group and size + n > cap:
            close()
            group, size = [], 0
        group.append(y)
        size += n
    close()
    return lists


def _extra_track_pages(total_tracks: int | None) -> int:
    if not total_tracks or total_tracks <= TRACKS_IN_ALBUM:
        return 0
    return math.ceil((total_tracks - TRACKS_IN_ALBUM) / TRACKS_IN_ALBUM)


def _index_after(candidates: list[list[Any]], album_id: str, start: int) -> int:
    for i in range(start, len(candidates)):
        if candidates[i][0] == album_id:
            return i + 1
    return start


class CallCounter:
    """CallMeter + RateBudget for one run: counts observed calls, refuses calls past ``limit``.

    Wire ``observe`` into the Spotify adapter's observer and pass the counter as its
    ``budget``: the adapter then cannot make call ``limit + 1`` (it raises RateLimited, which
    the services report as ``budget``). ``inner`` is an app-wide budget asked as well.
    """

    def __init__(self, limit: int | None = None, inner: Any = None):
        self.limit = limit
        self.inner = inner
        self.used = 0
        self.by_endpoint: dict[str, int] = {}

    def observe(self, endpoint: str, status: int, seconds: float) -> None:
        self.used += 1
        self.by_endpoint[endpoint] = self.by_endpoint.get(endpoint, 0) + 1

    def acquire(self, *, interactive: bool = True) -> bool:
        if self.limit is not None and self.used >= self.limit:
            return False
        return self.inner is None or self.inner.acquire(interactive=False)

    def retry_after(self) -> float:
        getter = getattr(self.inner, "retry_after", None)
        return float(getter()) if callable(getter) and self.inner is not None else 0.0
