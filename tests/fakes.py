"""In-memory fakes of the ports (no AWS, no HTTP), shared by unit tests."""

from __future__ import annotations

import threading

from musicboxd.errors import CacheUnavailable, NotFound
from musicboxd.models import Album, AlbumSummary, ArtistRef, SearchPage, Track
from musicboxd.ports import CachedAlbum, CachedSearch, Token


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.t = now

    def __call__(self) -> float:
        return self.t

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class MemoryCache:
    def __init__(self, clock: FakeClock):
        self.clock = clock
        self.albums: dict[str, CachedAlbum] = {}
        self.searches: dict[str, CachedSearch] = {}
        self.reads = 0
        self.writes = 0
        self.provisional: set[str] = set()

    def get_album(self, album_id):
        self.reads += 1
        return self.albums.get(album_id)

    def put_album(self, album, *, tier, ttl_seconds):
        self.writes += 1
        self.albums[album.id] = CachedAlbum(album, self.clock() + ttl_seconds, tier)

    def put_missing(self, album_id, *, ttl_seconds):
        self.writes += 1
        existing = self.albums.get(album_id)
        if existing is not None and existing.album is not None:
            return
        self.albums[album_id] = CachedAlbum(None, self.clock() + ttl_seconds, "")

    def get_search(self, key):
        self.reads += 1
        return self.searches.get(key)

    def put_search(self, key, page, *, ttl_seconds, provisional=False):
        self.writes += 1
        self.searches[key] = CachedSearch(page, self.clock() + ttl_seconds)
        if provisional:
            self.provisional.add(key)
        else:
            self.provisional.discard(key)


def make_album(album_id: str = "4aawyAB9vmqN3uQ7FjRGTy", n_tracks: int = 3, name: str = "Homogenic") -> Album:
    artist = ArtistRef(id="7w29UYBi0qsHi5RTcv3lmA", name="Björk")
    tracks = [
        Track(id=f"t{i:021d}", name=f"Track {i}", track_number=i, duration_ms=1000 * i, artists=[artist])
        for i in range(1, n_tracks + 1)
    ]
    return Album(
        id=album_id,
        name=name,
        artists=[artist],
        artist_name=artist.name,
        release_date="1997-09-22",
        total_tracks=n_tracks,
        album_type="album",
        tracks=tracks,
        total_duration_ms=sum(t.duration_ms for t in tracks),
    )


class FakeCatalog:
    """A CatalogSource with scripted failures and call counting."""

    def __init__(self, albums: list[Album] | None = None):
        self.albums = {a.id: a for a in albums or [make_album()]}
        self.calls: list[tuple] = []
        self.fail_with: Exception | None = None
        self.gate: threading.Event | None = None

    def search_albums(self, query, *, limit, offset):
        self.calls.append(("search", query, limit, offset))
        if self.gate:
            self.gate.wait(5)
        if self.fail_with:
            raise self.fail_with
        hits = [a.summary() for a in self.albums.values() if query in a.name.casefold()]
        return SearchPage(items=hits[offset : offset + limit], total=len(hits))

    def get_album(self, album_id):
        self.calls.append(("album", album_id))
        if self.gate:
            self.gate.wait(5)
        if self.fail_with:
            raise self.fail_with
        if album_id not in self.albums:
            raise NotFound(album_id)
        return self.albums[album_id]


class MemoryTokenStore:
    def __init__(self):
        self.token: Token | None = None
        self.saves = 0

    def load(self):
        return self.token

    def save(self, token):
        self.saves += 1
        self.token = token


class MemoryLease:
    def __init__(self):
        self.held: set[str] = set()

    def acquire(self, name, *, ttl_seconds):
        if name in self.held:
            return False
        self.held.add(name)
        return True

    def release(self, name):
        self.held.discard(name)


__all__ = ["AlbumSummary"]


class MemoryUsage:
    def __init__(self):
        self.rows: dict[str, dict[str, float]] = {}
        self.demand: dict[str, dict[str, int]] = {}
        self.claimed: dict[tuple[str, str], int] = {}
        self.writes = 0
        self.fail = False

    def add_hourly(self, hour, counters):
        if self.fail:
            raise CacheUnavailable("down")
        self.writes += 1
        row = self.rows.setdefault(hour, {})
        for k, v in counters.items():
            row[k] = row.get(k, 0) + v

    def add_demand(self, day, counts):
        if self.fail:
            raise CacheUnavailable("down")
        self.writes += 1
        row = self.demand.setdefault(day, {})
        for k, v in counts.items():
            row[k] = row.get(k, 0) + v

    def claim_demand(self, day, client, wanted, *, cap):
        if self.fail:
            raise CacheUnavailable("down")
        claimed = self.claimed.get((day, client), 0)
        self.claimed[(day, client)] = claimed + wanted
        return max(0, min(wanted, cap - claimed))

    def read_hourly(self, hours):
        return {h: self.rows[h] for h in hours if h in self.rows}


class FakeContainer:
    """``musicboxd.container.Container`` over in-memory fakes (HTTP tests): real services, fake ports."""

    def __init__(self, albums: list[Album] | None = None, *, clock=None, tier1=None, telemetry=None):
        from musicboxd.config import Settings
        from musicboxd.services.catalog import AlbumService, SearchService
        from musicboxd.services.usage import UsageRecorder

        self.settings = Settings()
        self.clock = clock or FakeClock()
        self.cache = MemoryCache(self.clock)
        self.telemetry = telemetry
        self.catalog = FakeCatalog(albums if albums is not None else [make_album()])
        self.usage_store = MemoryUsage()
        self.usage = UsageRecorder(self.usage_store, clock=self.clock)
        self.tier1 = tier1
        extra = {} if telemetry is None else {"telemetry": telemetry}
        self.search_service = SearchService(
            self.cache, self.catalog, market="US", ttl_seconds=100, clock=self.clock, tier1=tier1, **extra
        )
        self.album_service = AlbumService(
            self.cache, self.catalog, ttl_seconds=100, negative_ttl_seconds=10, clock=self.clock, **extra
        )

    def after_restore(self) -> None:
        """Nothing pooled, leased or seeded to renew."""
