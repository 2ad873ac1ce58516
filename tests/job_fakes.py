"""In-memory fakes for the populate/cleanup ports (no AWS, no HTTP)."""

from __future__ import annotations

import copy
import json
import math

from musicboxd.errors import BadUpstreamRequest, NotFound, RateLimited
from musicboxd.services.call_counter import CallCounter
from tests.fakes import make_album

PAGE_EXT = 50


def album_id(n: int) -> str:
    return f"{n:022d}"


def raw_album(n: int, total_tracks: int = 10) -> dict:
    return {"id": album_id(n), "name": f"Album {n}", "total_tracks": total_tracks, "artists": []}


class FakeSpotify:
    """Spotify as the populate service sees it: every call goes through ``_call`` (observed, capped)."""

    def __init__(
        self,
        *,
        extended: bool,
        new_releases: int = 60,
        playlists: dict[str, list[int]] | None = None,
        big: dict[int, int] | None = None,
        search: dict[str, list[int]] | None = None,
    ):
        self.extended = extended
        self.counter = CallCounter()
        self.calls: list[tuple] = []
        self.new = list(range(1, new_releases + 1))
        self.playlists = playlists or {}
        self.search = search or {}
        self.big = big or {}  # album number -> total tracks
        self.fail_after: int | None = None  # 429 once this many calls were made
        self.retry_after = 3600.0
        self.missing: set[str] = set()
        self.rejected: set[str] = set()  # queries Spotify answers 400

    # the "adapter" plumbing: budget gate, then the call, then observe
    def _call(self, endpoint: str, *args):
        if not self.counter.acquire(interactive=False):
            raise RateLimited(0, message="budget")
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            self.calls.append((endpoint, 429) + args)
            self.counter.observe(endpoint, 429, 0.01)
            raise RateLimited(self.retry_after)
        self.calls.append((endpoint,) + args)
        self.counter.observe(endpoint, 200, 0.01)

    def _tracks_pages(self, n: int) -> None:
        total = self.big.get(n, 10)
        for _ in range(max(0, math.ceil((total - 50) / 50))):
            self._call("album_tracks", n)

    def search_raw(self, query, *, limit, offset):
        self._call("search", query, limit, offset)
        if query in self.rejected:
            raise BadUpstreamRequest(f"invalid query {query!r}")
        ids = self.new if query == "tag:new" else self.search.get(query, [])
        page = ids[offset : offset + limit]
        return {
            "albums": {
                "items": [raw_album(i, self.big.get(i, 10)) for i in page],
                "next": "x" if offset + limit < len(ids) else None,
                "total": len(ids),
            }
        }

    def search_albums(self, query, *, limit, offset):
        from musicboxd.models import AlbumSummary, SearchPage

        self._call("search", query, limit, offset)
        ids = self.search.get(query, [])
        items = [AlbumSummary(id=album_id(i), name=f"Album {i}", artists=[], artist_name="",
                              release_date=query.split(":")[1][:4]) for i in ids[offset : offset + limit]]  # fmt: skip
        return SearchPage(items=items, total=len(ids))

    def get_json(self, path, params=None):
        if path.startswith("/browse/new-releases"):
            self._call("new_releases", params["offset"])
            page = self.new[params["offset"] : params["offset"] + params["limit"]]
            nxt = params["offset"] + params["limit"] < len(self.new)
            return {"albums": {"items": [raw_album(i) for i in page], "next": "x" if nxt else None}}
        if path.startswith("/playlists/"):
            pid = path.split("/")[2]
            self._call("playlist_items", pid)
            if pid not in self.playlists:
                raise NotFound(pid)
            return {
                "items": [{"item": {"type": "track", "album": raw_album(i)}} for i in self.playlists[pid]],
                "next": None,
            }
        if path.startswith("page:"):
            raise AssertionError("unexpected page")
        raise NotFound(path)

    def get_albums(self, ids):
        nums = [int(i) for i in ids]
        if self.extended:
            assert len(ids) <= 20
            self._call("albums", tuple(ids))
            for n in nums:
                self._tracks_pages(n)
            return [
                make_album(album_id(n), n_tracks=2, name=f"Album {n}") for n in nums if album_id(n) not in self.missing
            ]
        out = []
        for n in nums:
            self._call("album", n)
            if album_id(n) in self.missing:
                raise NotFound(album_id(n))
            self._tracks_pages(n)
            out.append(make_album(album_id(n), n_tracks=2, name=f"Album {n}"))
        return out

    def fetched(self) -> list[str]:
        out = []
        for call in self.calls:
            if call[0] == "albums" and call[1:2] != (429,):
                out.extend(call[1])
            elif call[0] == "album" and call[1] != 429:
                out.append(album_id(call[1]))
        return out


class MemoryStore:
    def __init__(self, clock):
        self.clock = clock
        self.items: dict[str, dict] = {}

    def album_expiries(self, ids):
        return {i: self.items[i]["expires_at"] for i in ids if i in self.items}

    def put_popular(self, album, *, tier, ttl_seconds, source):
        self.items[album.id] = {
            "tier": tier,
            "expires_at": self.clock() + ttl_seconds,
            "source": source,
            "album": album,
        }

    def put_missing(self, album_id, *, ttl_seconds):
        self.items.setdefault(album_id, {"tier": "", "expires_at": self.clock() + ttl_seconds, "source": None})


class MemoryCheckpoints:
    def __init__(self):
        self.states: dict[str, dict] = {}
        self.saves = 0

    def load(self, name):
        state = self.states.get(name)
        return copy.deepcopy(state) if state is not None else None

    def save(self, name, state):
        self.saves += 1
        json.dumps(state)  # must be JSON (it is stored zlib'd JSON)
        self.states[name] = copy.deepcopy(state)


class MemoryDemand:
    def __init__(self, counts: dict[str, int] | None = None):
        self.counts = counts or {}
        self.asked: list[list[str]] = []

    def top_demand(self, days, *, max_items=20_000):
        self.asked.append(list(days))
        return dict(self.counts)
