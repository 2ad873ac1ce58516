"""Deterministic, realistic-looking music catalog for the Spotify/MusicBrainz emulator.

``load_catalog(seed)`` returns the same catalog, byte for byte, for the same seed (see
``Catalog.fingerprint``): about 20,000 albums by about 5,000 artists, with the skew, the shared
title words, the variants and the scripts of a real catalog. Tracks are generated lazily per album
(from a per-album RNG, so still deterministic) to keep startup fast.

Release dates are absolute except for a few hundred "recent" albums whose date is stored as a number
of days before the emulator clock (``Album.recent_days``): they stay "new" whatever "today" is, and
the catalog itself does not depend on the wall clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import pickle
import random
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

GENERATOR_VERSION = 2
DEFAULT_SEED = 2026
ARTIST_COUNT = 5_000
ALBUM_COUNT = 20_000
VARIOUS_ARTISTS_NAME = "Various Artists"

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_SPACE = 62**22
_MB_NAMESPACE = uuid.UUID("6f1d3a52-7c1e-4d0b-9a43-2b7f0e9c5a11")
CACHE_DIR = Path(__file__).resolve().parents[2] / ".emulator-cache"

MARKETS = (
    "AR", "AT", "AU", "BE", "BR", "CA", "CH", "CL", "CO", "CZ", "DE", "DK", "EG", "ES", "FI", "FR",
    "GB", "GR", "HK", "ID", "IE", "IN", "IS", "IT", "JP", "KR", "MA", "MX", "NL", "NO", "NZ", "PE",
    "PH", "PL", "PT", "SA", "SE", "SG", "TH", "TR", "TW", "UA", "US", "VN", "ZA",
)  # fmt: skip

# locale -> (weight, home markets). Several scripts: Latin (with accents), CJK, Hangul, Cyrillic,
# Arabic, Greek.
LOCALES: dict[str, tuple[int, tuple[str, ...]]] = {
    "en_US": (30, ("US", "CA", "GB", "AU")),
    "de_DE": (7, ("DE", "AT", "CH")),
    "fr_FR": (7, ("FR", "BE", "CA")),
    "es_ES": (7, ("ES", "MX", "AR")),
    "pt_BR": (6, ("BR", "PT")),
    "ja_JP": (8, ("JP",)),
    "zh_CN": (5, ("TW", "HK", "SG")),
    "ko_KR": (5, ("KR",)),
    "ru_RU": (6, ("UA", "CZ")),
    "ar_AA": (4, ("EG", "SA", "MA")),
    "it_IT": (3, ("IT",)),
    "sv_SE": (2, ("SE", "NO", "DK")),
    "pl_PL": (3, ("PL",)),
    "cs_CZ": (2, ("CZ",)),
    "el_GR": (2, ("GR",)),
    "vi_VN": (2, ("VN",)),
    "is_IS": (1, ("IS",)),
}

_EN_WORDS = (  # noqa: SIM905 - a word list reads better as text
    "Midnight Fire Heart Dream River Ghost Gold Summer Winter Night Light Shadow Blue Red Wild "
    "Electric Silver Ocean Stone Glass Velvet Neon Paper Golden Broken Lonely Endless Silent Falling "
    "Rising Sweet Dark Bright Lost Found Home Road City Desert Rain Thunder Storm Echo Mirror Diamond "
    "Sugar Honey Kingdom Empire Paradise Heaven Angel Devil Moon Sun Star Stars Sky Fever Rebel "
    "Runaway Forever Yesterday Tomorrow Tonight Highway Horizon Machine Future Memory Memories Hearts "
    "Dreams Waves Tides Garden Flowers Roses Wolves Lions Birds Crown Empty Hollow Northern Southern "
    "Western Eastern Young Old Modern Secret Sacred Holy Twisted Little Big Sister Brother Mother "
    "Father Children Dancing Burning Shining Running Loving Talking Walking Flying Crying Waiting "
    "Calling Coming Going Stay Away Fade Glow Ride Drive Swim Ashes Dust Smoke Bones Blood Tears Kiss "
    "Touch Soul Spirit Magic Wonder Island Valley Mountain Canyon Harbor Station Avenue Boulevard "
    "Motel Diner Radio Cassette Vinyl Satellite Rocket Planet Galaxy Comet Orbit Signal Static Wire "
    "Circuit Chrome Cherry Lemon Peach"
).split()
_EN_COMMON_TITLES = (
    "Live",
    "Love",
    "Greatest Hits",
    "Love Songs",
    "Unplugged",
    "Acoustic",
    "Christmas",
    "Home",
    "Forever",
    "Essentials",
    "Gold",
    "Hits",
    "The Collection",
    "Anthology",
    "Best Of",
    "Sessions",
)
_KO_WORDS = (  # noqa: SIM905 - a word list reads better as text
    "사랑 밤 꿈 별 바다 하늘 노래 여름 겨울 봄 기억 시간 우리 너 빛 마음 서울 이야기 눈물 바람"
).split()
_PT_WORDS = (  # noqa: SIM905 - a word list reads better as text
    "amor saudade coração noite mar céu vida sol canção ação lua samba verão cidade tempo alma sertão "
    "paixão sonho estrela"
).split()
_SV_WORDS = (  # noqa: SIM905 - a word list reads better as text
    "kärlek natt sommar vinter hjärta ljus himmel hav dröm stjärna sång älv skog snö"
).split()
_IS_WORDS = (  # noqa: SIM905 - a word list reads better as text
    "ást nótt sumar vetur hjarta ljós himinn haf draumur stjarna söngur jökull"
).split()
_LATIN_FALLBACK = {"ko_KR": _KO_WORDS, "pt_BR": _PT_WORDS, "sv_SE": _SV_WORDS, "is_IS": _IS_WORDS}
_LIVE_CITIES = (
    "Tokyo",
    "Berlin",
    "Paris",
    "Montréal",
    "São Paulo",
    "London",
    "Reykjavík",
    "Wembley",
    "Budokan",
    "Red Rocks",
    "the Fillmore",
    "Madison Square Garden",
    "Zürich",
    "Kraków",
)
_VARIANT_SUFFIXES = (
    " (Deluxe Edition)",
    " (Deluxe)",
    " (Remastered {year})",
    " ({year} Remaster)",
    " (Expanded Edition)",
    " (Super Deluxe)",
    " ({n}th Anniversary Edition)",
    " - Remastered",
)
_BIG_TITLES = (
    "The Complete Recordings",
    "Complete Studio Albums",
    "100 Greatest Classics",
    "The Anthology Box",
    "Essential Collection",
    "Archives, Vol. {n}",
)
_MAJOR_LABELS = (
    "Columbia",
    "Universal Music",
    "Warner Records",
    "Sony Music Japan",
    "XL Recordings",
    "Sub Pop",
    "Domino",
    "Parlophone",
    "Island Records",
    "Atlantic Records",
    "Def Jam",
    "Deutsche Grammophon",
    "Because Music",
    "Avex Trax",
    "SM Entertainment",
)


_VA_WORDS = ("Hits", "Classics", "Anthems", "Party", "Summer", "Chill")
_VA_SUFFIXES = ("Hits", "Collection", "Mix", "100%")


def _isrc(locale: str, track_id: str, rng: random.Random) -> str:
    return f"{locale[-2:]}{track_id[:3].upper()}{rng.randint(10, 99)}{rng.randint(0, 99999):05d}"


def base62_id(*parts: object) -> str:
    """A 22-character Spotify-like base62 id derived from ``parts`` (stable across runs)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    n = int.from_bytes(digest[:17], "big") % _ID_SPACE
    chars = []
    for _ in range(22):
        n, r = divmod(n, 62)
        chars.append(_BASE62[r])
    return "".join(reversed(chars))


def mbid(kind: str, spotify_id: str) -> str:
    """Stable MusicBrainz-style UUID for an entity of the catalog."""
    return str(uuid.uuid5(_MB_NAMESPACE, f"{kind}:{spotify_id}"))


def image_hash(kind: str, spotify_id: str) -> str:
    return hashlib.sha1(f"{kind}:{spotify_id}".encode()).hexdigest()[:24]


@dataclass(slots=True)
class Artist:
    index: int
    id: str
    name: str
    locale: str
    popularity: int
    followers: int
    mbid: str
    sort_name: str
    albums: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Album:
    index: int
    id: str
    name: str
    artists: tuple[int, ...]
    album_type: str  # album | single | compilation (Spotify)
    mb_type: str  # Album | Single | EP (MusicBrainz primary type)
    release_date: str  # "" when recent_days is set
    precision: str  # day | month | year
    recent_days: int | None  # released this many days before the emulator clock
    total_tracks: int
    discs: int
    popularity: int
    label: str
    markets: tuple[str, ...]
    upc: str
    mbid: str
    release_mbid: str
    locale: str
    explicit_ratio: float
    variant_of: int | None = None

    def release(self, today: dt.date) -> tuple[str, str]:
        """(release_date, release_date_precision) as of the emulator clock ``today``."""
        if self.recent_days is None:
            return self.release_date, self.precision
        return (today - dt.timedelta(days=self.recent_days)).isoformat(), "day"

    def release_day(self, today: dt.date) -> dt.date:
        date, _ = self.release(today)
        parts = [int(p) for p in date.split("-")] + [1, 1]
        return dt.date(parts[0], parts[1], parts[2])

    def year(self, today: dt.date) -> int:
        if self.recent_days is None:
            return int(self.release_date[:4])
        return self.release_day(today).year


@dataclass(slots=True, frozen=True)
class Track:
    id: str
    name: str
    album: int
    disc_number: int
    track_number: int
    duration_ms: int
    explicit: bool
    artists: tuple[int, ...]
    isrc: str
    popularity: int


@dataclass(slots=True)
class Playlist:
    index: int
    id: str
    name: str
    description: str
    owner_id: str
    owner_name: str
    items: list[tuple[int, int]]  # (album index, track position)
    added_at: list[str]
    followers: int


class Catalog:
    """The generated catalog with lookups by id; ``tracks(album)`` is computed on demand."""

    def __init__(
        self,
        seed: int,
        artists: list[Artist],
        albums: list[Album],
        playlists: list[Playlist],
        word_pools: dict[str, list[str]],
        generated_in: float = 0.0,
    ):
        self.seed = seed
        self.artists = artists
        self.albums = albums
        self.playlists = playlists
        self.word_pools = word_pools
        self.generated_in = generated_in
        self.loaded_in = generated_in
        self.album_by_id = {a.id: a for a in albums}
        self.artist_by_id = {a.id: a for a in artists}
        self.playlist_by_id = {p.id: p for p in playlists}
        self.album_by_mbid = {a.mbid: a for a in albums}
        self.various_artists = next(a for a in artists if a.name == VARIOUS_ARTISTS_NAME)
        self._track_cache: dict[int, list[Track]] = {}
        self._index = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_index"] = None
        state["_track_cache"] = {}
        return state

    # -- lookups -------------------------------------------------------------------------------
    def album(self, album_id: str) -> Album | None:
        return self.album_by_id.get(album_id)

    def artist(self, artist_id: str) -> Artist | None:
        return self.artist_by_id.get(artist_id)

    def playlist(self, playlist_id: str) -> Playlist | None:
        return self.playlist_by_id.get(playlist_id)

    def artist_names(self, album: Album) -> str:
        return ", ".join(self.artists[i].name for i in album.artists)

    @property
    def index(self):
        """The search index (built on first use, then kept)."""
        if self._index is None:
            from tools.emulator.search import SearchIndex

            self._index = SearchIndex(self)
        return self._index

    def counts(self) -> dict[str, int]:
        return {
            "albums": len(self.albums),
            "artists": len(self.artists),
            "tracks": sum(a.total_tracks for a in self.albums),
            "playlists": len(self.playlists),
        }

    # -- tracks --------------------------------------------------------------------------------
    def tracks(self, album: Album | int) -> list[Track]:
        idx = album if isinstance(album, int) else album.index
        cached = self._track_cache.get(idx)
        if cached is None:
            cached = self._make_tracks(self.albums[idx])
            if len(self._track_cache) > 20_000:
                self._track_cache.clear()
            self._track_cache[idx] = cached
        return cached

    def _make_tracks(self, album: Album) -> list[Track]:
        rng = random.Random(f"{self.seed}:tracks:{album.index}")
        pool = self.word_pools[album.locale]
        per_disc = math.ceil(album.total_tracks / album.discs)
        various = album.artists == (self.various_artists.index,)
        tracks = []
        for pos in range(album.total_tracks):
            if album.album_type == "single" and pos == 0:
                name = album.name.split(" (")[0].removesuffix(" - EP").removesuffix(" - Remastered")
            else:
                name = _title(rng, pool, rng.choice((1, 1, 2, 2, 2, 3, 4)))
            roll = rng.random()
            if roll < 0.04:
                name += " - Live"
            elif roll < 0.06:
                name = rng.choice(("Intro", "Interlude", "Outro", "Reprise"))
            elif roll < 0.08:
                name += f" - Remastered {rng.randint(1995, 2024)}"
            if various:
                artists = (rng.randrange(1, len(self.artists)),)
            else:
                artists = album.artists
                if rng.random() < 0.07:
                    feat = rng.randrange(1, len(self.artists))
                    if feat not in artists:
                        artists = (*artists, feat)
                        name += f" (feat. {self.artists[feat].name})"
            tid = base62_id(self.seed, "track", album.index, pos)
            tracks.append(
                Track(
                    id=tid,
                    name=name,
                    album=album.index,
                    disc_number=pos // per_disc + 1,
                    track_number=pos % per_disc + 1,
                    duration_ms=rng.randint(75_000, 480_000) if rng.random() > 0.02 else rng.randint(20_000, 75_000),
                    explicit=rng.random() < album.explicit_ratio,
                    artists=artists,
                    isrc=_isrc(album.locale, tid, rng),
                    popularity=max(0, min(100, album.popularity + rng.randint(-15, 10))),
                )
            )
        return tracks

    # -- determinism -----------------------------------------------------------------------------
    def canonical_json(self, tracks_every: int = 1) -> bytes:
        """Canonical dump of the catalog (sorted keys, fixed separators).

        ``tracks_every=k`` includes the tracks of every k-th album (1: all, 0: none) - the full dump
        takes a few seconds because tracks are generated on demand.
        """
        data = {
            "seed": self.seed,
            "generator_version": GENERATOR_VERSION,
            "artists": [asdict(a) for a in self.artists],
            "albums": [asdict(a) for a in self.albums],
            "playlists": [asdict(p) for p in self.playlists],
        }
        if tracks_every:
            data["tracks"] = [[asdict(t) for t in self._make_tracks(album)] for album in self.albums[::tracks_every]]
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()

    def fingerprint(self, tracks_every: int = 1) -> str:
        """sha256 of ``canonical_json(tracks_every)``: equal seeds give equal fingerprints."""
        return hashlib.sha256(self.canonical_json(tracks_every)).hexdigest()

    def sample(self, n: int = 10, seed: int = 0) -> dict:
        """A deterministic sample of real names and ids (tests, README examples)."""
        rng = random.Random(f"sample:{self.seed}:{seed}")
        albums = rng.sample(self.albums, min(n, len(self.albums)))
        artists = rng.sample(self.artists[1:], min(n, len(self.artists) - 1))
        return {
            "seed": self.seed,
            "albums": [
                {
                    "id": a.id,
                    "name": a.name,
                    "artist": self.artist_names(a),
                    "artist_id": self.artists[a.artists[0]].id,
                    "mbid": a.mbid,
                    "album_type": a.album_type,
                    "total_tracks": a.total_tracks,
                    "locale": a.locale,
                }
                for a in albums
            ],
            "artists": [{"id": a.id, "name": a.name, "albums": len(a.albums)} for a in artists],
            "playlists": [{"id": p.id, "name": p.name, "total": len(p.items)} for p in self.playlists],
            "big_albums": [
                {"id": a.id, "name": a.name, "total_tracks": a.total_tracks} for a in self.albums if a.total_tracks > 50
            ][:n],
        }


# ---------------------------------------------------------------------------------------------
# Generation


def _title(rng: random.Random, pool: list[str], words: int) -> str:
    chosen = [rng.choice(pool) for _ in range(words)]
    text = " ".join(chosen)
    if text[:1].isascii() or text[:1].isalpha() and text[:1].lower() != text[:1].upper():
        text = " ".join(w[:1].upper() + w[1:] for w in chosen)
    return text


def _word_pools(fakers: dict) -> dict[str, list[str]]:
    pools = {}
    for locale, fk in fakers.items():
        if locale == "en_US":
            words = list(_EN_WORDS)
        elif locale in _LATIN_FALLBACK:
            words = list(_LATIN_FALLBACK[locale])
        else:
            words = [fk.word() for _ in range(160)]
        # de-duplicate but keep the (deterministic) order
        pools[locale] = list(dict.fromkeys(w for w in words if w.strip()))
    return pools


def _artist_name(rng: random.Random, fk, locale: str, pool: list[str]) -> str:
    roll = rng.random()
    if locale in ("ja_JP", "zh_CN", "ko_KR"):
        if roll < 0.65:
            return f"{fk.last_name()}{fk.first_name()}" if locale != "ja_JP" else fk.name()
        if roll < 0.85:
            return _title(rng, pool, rng.randint(1, 2)).replace(" ", "")
        return _title(rng, _EN_WORDS, rng.randint(1, 2)).upper()  # K/J-pop style latin names
    if roll < 0.45:
        return f"{fk.first_name()} {fk.last_name()}"
    if roll < 0.6 and locale == "en_US":
        return f"The {rng.choice(_EN_WORDS)} {rng.choice(('Band', 'Brothers', 'Kids', 'Machines', 'Sisters'))}"
    if roll < 0.75:
        return _title(rng, pool, rng.randint(1, 3))
    if roll < 0.85:
        return f"{fk.first_name()} & {_title(rng, pool, 1)}"
    if roll < 0.92:
        return f"{rng.choice(('DJ', 'MC', 'Lil', 'Los', 'Die', 'Les', 'El'))} {_title(rng, pool, 1)}"
    return fk.last_name()


def _album_counts(rng: random.Random, n_artists: int, n_albums: int) -> list[int]:
    """Zipf-like skew: a few prolific artists, most with one or two albums; sums to n_albums."""
    counts = [max(1, min(120, int(rng.paretovariate(1.25)))) for _ in range(n_artists)]
    total = sum(counts)
    while total != n_albums:
        i = rng.randrange(n_artists)
        if total < n_albums:
            bump = 1 if counts[i] > 1 or rng.random() < 0.3 else 0
            counts[i] += bump
            total += bump
        elif counts[i] > 1:
            counts[i] -= 1
            total -= 1
    return counts


def generate_catalog(seed: int = DEFAULT_SEED) -> Catalog:
    """The catalog of ``seed``, in phases that draw from one seeded generator in a fixed order.

    The order of the phases (and of the draws inside each) is part of the catalog: reordering
    them changes every album after the change (``tests/unit/emulator/test_catalog.py``).
    """
    started = time.perf_counter()
    rng = random.Random(f"catalog:{seed}")
    locales = _Locales.seeded(seed)
    artists = _artists(seed, rng, locales)
    n_various = ALBUM_COUNT // 40  # 500 compilations by Various Artists
    counts = _album_counts(rng, ARTIST_COUNT - 1, ALBUM_COUNT - n_various)
    _artist_popularity(rng, artists, counts)
    labels = _labels(rng, locales)
    albums = _albums(seed, rng, locales, artists, _album_plan(rng, counts, n_various), labels)
    playlists = _playlists(seed, rng, albums, artists)
    catalog = Catalog(seed, artists, albums, playlists, locales.pools)
    catalog.generated_in = catalog.loaded_in = time.perf_counter() - started
    return catalog


@dataclass
class _Locales:
    names: list[str]
    weights: list[float]
    fakers: dict
    pools: dict[str, list[str]]

    @classmethod
    def seeded(cls, seed: int) -> _Locales:
        import faker

        names = list(LOCALES)
        fakers = {}
        for i, loc in enumerate(names):
            fk = faker.Faker(loc)
            fk.seed_instance(seed * 1000 + i)
            fakers[loc] = fk
        return cls(names, [LOCALES[loc][0] for loc in names], fakers, _word_pools(fakers))

    def pick(self, rng: random.Random) -> str:
        return rng.choices(self.names, self.weights)[0]


def _artists(seed: int, rng: random.Random, locales: _Locales) -> list[Artist]:
    """Index 0 is "Various Artists" (compilations), with Spotify's real id."""
    various = Artist(
        0,
        "0LyfQWJT6nXafLPZqxe9Of",
        VARIOUS_ARTISTS_NAME,
        "en_US",
        60,
        0,
        "89ad4ac3-39f7-470e-963a-56509c546377",
        VARIOUS_ARTISTS_NAME,
    )
    artists = [various]
    for i in range(1, ARTIST_COUNT):
        loc = locales.pick(rng)
        name = _artist_name(rng, locales.fakers[loc], loc, locales.pools[loc])
        aid = base62_id(seed, "artist", i)
        sort_name = name[4:] + ", The" if name.startswith("The ") else name
        artists.append(Artist(i, aid, name, loc, 0, 0, mbid("artist", aid), sort_name))
    return artists


def _artist_popularity(rng: random.Random, artists: list[Artist], counts: list[int]) -> None:
    """More albums, more popular (with noise); followers follow popularity."""
    for artist_index, count in zip(range(1, ARTIST_COUNT), counts, strict=True):
        artist = artists[artist_index]
        base = min(95, 8 + 14 * math.log1p(count) + rng.gauss(0, 12))
        artist.popularity = int(max(0, min(100, base)))
        artist.followers = int(10 ** (artist.popularity / 16) * rng.uniform(0.5, 3))


@dataclass
class _Labels:
    names: list[str]
    by_artist: dict[int, str]


def _labels(rng: random.Random, locales: _Locales) -> _Labels:
    names = list(_MAJOR_LABELS) + [
        f"{locales.fakers['en_US'].last_name()} {rng.choice(('Records', 'Music', 'Recordings', 'Sounds'))}"
        for _ in range(240)
    ]
    return _Labels(names, {i: rng.choice(names) for i in range(ARTIST_COUNT)})


def _album_plan(rng: random.Random, counts: list[int], n_various: int) -> list[tuple[int, int]]:
    """(artist index, ordinal within artist) per album: each artist's, then compilations, shuffled."""
    plans: list[tuple[int, int]] = []
    for artist_index, count in zip(range(1, ARTIST_COUNT), counts, strict=True):
        plans.extend((artist_index, k) for k in range(count))
    plans.extend((0, k) for k in range(n_various))
    rng.shuffle(plans)
    return plans


def _albums(
    seed: int,
    rng: random.Random,
    locales: _Locales,
    artists: list[Artist],
    plans: list[tuple[int, int]],
    labels: _Labels,
) -> list[Album]:
    albums: list[Album] = []
    by_artist_titles: dict[int, list[int]] = {}
    for idx, (artist_index, _ordinal) in enumerate(plans):
        artist = artists[artist_index]
        loc = artist.locale if artist_index else locales.pick(rng)
        album_id = base62_id(seed, "album", idx)
        artist_tuple = (artist_index,)
        if artist_index and rng.random() < 0.05:  # collaborations
            other = rng.randrange(1, ARTIST_COUNT)
            if other != artist_index:
                artist_tuple = (artist_index, other)
        album_type, mb_type, total = _album_shape(rng, artist_index)
        title = _album_title(rng, artist, loc, locales.pools[loc], albums, by_artist_titles.get(artist_index, []),
                             (album_type, mb_type, total))  # fmt: skip
        name, variant_of, (album_type, mb_type, total) = title
        name, album_type, mb_type, total, discs = _album_size(rng, artist_index, variant_of, name, album_type,
                                                              mb_type, total)  # fmt: skip
        date, precision, recent_days = _release_date(rng, albums[variant_of] if variant_of is not None else None)
        pop = artist.popularity + rng.gauss(0, 10) - (8 if variant_of is not None else 0)
        if recent_days is not None:
            pop += 10
        markets = MARKETS
        if rng.random() < 0.08:
            markets = tuple(sorted(set(LOCALES[loc][1]) | {"US"} if rng.random() < 0.5 else set(LOCALES[loc][1])))
        label = labels.by_artist[artist_index] if rng.random() < 0.85 else rng.choice(labels.names)
        album = Album(
            index=idx,
            id=album_id,
            name=name,
            artists=artist_tuple,
            album_type=album_type,
            mb_type=mb_type,
            release_date=date,
            precision=precision,
            recent_days=recent_days,
            total_tracks=total,
            discs=discs,
            popularity=int(max(0, min(100, pop))),
            label=label,
            markets=markets,
            upc=f"{rng.randrange(10**11, 10**12)}",
            mbid=mbid("release-group", album_id),
            release_mbid=mbid("release", album_id),
            locale=loc,
            explicit_ratio=rng.choice((0.0, 0.0, 0.0, 0.1, 0.3, 0.8)),
            variant_of=variant_of,
        )
        albums.append(album)
        by_artist_titles.setdefault(artist_index, []).append(idx)
        for ai in artist_tuple:
            artists[ai].albums.append(idx)
    return albums


def _album_shape(rng: random.Random, artist_index: int) -> tuple[str, str, int]:
    """(Spotify album type, MusicBrainz primary type, track count)."""
    roll = rng.random()
    if artist_index == 0:
        return "compilation", "Album", rng.randint(12, 40)
    if roll < 0.33:
        return "single", "Single", rng.choice((1, 1, 1, 2, 2, 3))
    if roll < 0.48:
        return "single", "EP", rng.randint(4, 6)
    if roll < 0.52:
        return "compilation", "Album", rng.randint(14, 30)
    return "album", "Album", rng.randint(7, 18)


def _album_title(
    rng: random.Random,
    artist: Artist,
    loc: str,
    pool: list[str],
    albums: list[Album],
    previous: list[int],
    shape: tuple[str, str, int],
) -> tuple[str, int | None, tuple[str, str, int]]:
    """(title, index of the album this one is a variant of, shape); a variant takes its original's shape."""
    album_type, mb_type, total = shape
    t_roll = rng.random()
    if artist.index == 0:
        if rng.random() < 0.5:
            return f"{rng.choice(_EN_COMMON_TITLES)} {rng.choice(_VA_WORDS)} {rng.randint(1990, 2025)}", None, shape
        return f"{_title(rng, pool, rng.randint(1, 2))} {rng.choice(_VA_SUFFIXES)}", None, shape
    if previous and album_type != "single" and t_roll < 0.12:
        original = albums[rng.choice(previous)]
        suffix = rng.choice(_VARIANT_SUFFIXES).format(year=rng.randint(2005, 2025), n=rng.choice((10, 20, 25, 30)))
        total = original.total_tracks + (rng.randint(2, 14) if "Remaster" not in suffix else 0)
        return original.name + suffix, original.index, (original.album_type, original.mb_type, total)
    if loc == "en_US" and t_roll < 0.30 or t_roll < 0.14:
        common = rng.choice(_EN_COMMON_TITLES)
        form = rng.random()
        if common == "Live" and form < 0.6:
            name = f"Live {rng.choice(('at', 'in', 'from'))} {rng.choice(_LIVE_CITIES)}"
        elif common == "Love" and form < 0.7:
            name = rng.choice(("Love {w}", "{w} Love", "Love & {w}", "Songs of Love", "Love Is {w}")).format(
                w=rng.choice(_EN_WORDS)
            )
        elif common == "Greatest Hits" and form < 0.4:
            name = f"Greatest Hits, Vol. {rng.randint(1, 3)}"
        else:
            name = common
        if album_type == "single" and mb_type == "EP":
            name += " - EP"
        return name, None, shape
    if t_roll < 0.18:
        return artist.name, None, shape  # self-titled
    name = _title(rng, pool, rng.choice((1, 1, 2, 2, 2, 3, 4)))
    if mb_type == "EP" and rng.random() < 0.5:
        name += " - EP"
    return name, None, shape


def _album_size(
    rng: random.Random,
    artist_index: int,
    variant_of: int | None,
    name: str,
    album_type: str,
    mb_type: str,
    total: int,
) -> tuple[str, str, str, int, int]:
    """A few giant releases (60-200 tracks) and multi-disc albums: (name, type, MB type, tracks, discs)."""
    discs = 1
    if artist_index and rng.random() < 0.004 and variant_of is None:
        total = rng.randint(60, 200)
        album_type, mb_type = "compilation", "Album"
        name = rng.choice(_BIG_TITLES).format(n=rng.randint(1, 4))
    if total >= 60:
        discs = math.ceil(total / rng.choice((20, 25, 30)))
    elif total > 20 or (album_type == "album" and rng.random() < 0.05):
        discs = 2
    return name, album_type, mb_type, total, discs


def _release_date(rng: random.Random, original: Album | None) -> tuple[str, str, int | None]:
    """(date, precision, days before the emulator's today for a recent release); a variant is never older."""
    if rng.random() < 0.012:
        return "", "day", rng.randint(0, 27)
    year = max(1950, 2026 - int(rng.expovariate(1 / 11)))
    month = rng.randint(1, 9) if year == 2026 else rng.randint(1, 12)
    day = rng.randint(1, 28)
    p_roll = rng.random()
    old = year < 1990
    if p_roll < (0.35 if old else 0.05):
        date, precision = f"{year:04d}", "year"
    elif p_roll < (0.5 if old else 0.12):
        date, precision = f"{year:04d}-{month:02d}", "month"
    else:
        date, precision = f"{year:04d}-{month:02d}-{day:02d}", "day"
    if original is not None and original.recent_days is None and date[:4] < original.release_date[:4]:
        date, precision = original.release_date, original.precision
    return date, precision, None


def _playlists(seed: int, rng: random.Random, albums: list[Album], artists: list[Artist]) -> list[Playlist]:
    by_pop = sorted(albums, key=lambda a: (-a.popularity, a.id))

    def pick(candidates: list[Album], n: int) -> list[tuple[int, int]]:
        chosen = []
        for album in candidates[: n * 3]:
            chosen.append((album.index, rng.randrange(album.total_tracks)))
        rng.shuffle(chosen)
        return chosen[:n]

    specs = [
        ("Emulator Top 50 – Global", "The most played tracks right now.", by_pop, 50),
        (
            "Fresh Finds",
            "New music from the last few weeks.",
            [a for a in by_pop if a.recent_days is not None],
            40,
        ),
        ("東京ナイト", "J-Pop and city pop from Tokyo.", [a for a in by_pop if a.locale == "ja_JP"], 60),
        ("Русский рок", "Классика и новинки.", [a for a in by_pop if a.locale == "ru_RU"], 45),
        (
            "Canciones de Amor",
            "Baladas para el corazón.",
            [a for a in by_pop if a.locale in ("es_ES", "pt_BR")],
            70,
        ),
        ("Deep Cuts", "Hidden gems from the whole catalog.", list(reversed(by_pop)), 250),
        ("Greatest Hits Forever", "Hits, hits, hits.", [a for a in by_pop if "Hits" in a.name], 120),
        ("K-Pop Daebak", "오늘의 K-Pop", [a for a in by_pop if a.locale == "ko_KR"], 35),
    ]
    playlists = []
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for i, (name, desc, candidates, n) in enumerate(specs):
        items = pick(candidates, n)
        added = [
            (base + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 900))).strftime("%Y-%m-%dT%H:%M:%SZ") for _ in items
        ]
        added.sort()
        owner = ("spotify", "Spotify") if i % 3 else (f"user{rng.randrange(10**6):06d}", None)
        playlists.append(
            Playlist(
                i,
                base62_id(seed, "playlist", i),
                name,
                desc,
                owner[0],
                owner[1] or owner[0],
                items,
                added,
                rng.randrange(1_000, 30_000_000),
            )
        )
    return playlists


# ---------------------------------------------------------------------------------------------
# Loading with an in-process memo and an on-disk cache

_MEMO: dict[int, Catalog] = {}
CACHE_THRESHOLD_S = 1.5


def _cache_path(seed: int) -> Path:
    """Keyed by seed, GENERATOR_VERSION and the generator source hash (a forgotten bump is harmless)."""
    source = hashlib.sha1(Path(__file__).read_bytes()).hexdigest()[:12]
    return CACHE_DIR / f"catalog-seed{seed}-v{GENERATOR_VERSION}-{source}.pickle"


def load_catalog(seed: int | None = None, *, use_disk_cache: bool | None = None) -> Catalog:
    """Return the catalog for ``seed`` (default: ``EMULATOR_SEED`` or 2026), memoized per process.

    Generation that takes longer than ``CACHE_THRESHOLD_S`` is cached on disk under
    ``.emulator-cache/`` (keyed by seed, ``GENERATOR_VERSION`` and the generator's source hash); set
    ``EMULATOR_NO_CACHE=1`` to skip it.
    """
    if seed is None:
        seed = int(os.environ.get("EMULATOR_SEED") or DEFAULT_SEED)
    if seed in _MEMO:
        return _MEMO[seed]
    if use_disk_cache is None:
        use_disk_cache = os.environ.get("EMULATOR_NO_CACHE", "") not in ("1", "true", "yes")
    started = time.perf_counter()
    path = _cache_path(seed)
    catalog = None
    if use_disk_cache and path.exists():
        try:
            with path.open("rb") as fh:
                catalog = pickle.load(fh)
            if not isinstance(catalog, Catalog) or catalog.seed != seed:
                catalog = None
        except Exception:  # corrupt or stale cache: regenerate
            catalog = None
        if catalog is not None:
            catalog.loaded_in = time.perf_counter() - started
    if catalog is None:
        catalog = generate_catalog(seed)
        if use_disk_cache and catalog.generated_in > CACHE_THRESHOLD_S:
            try:
                CACHE_DIR.mkdir(exist_ok=True)
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                with tmp.open("wb") as fh:
                    pickle.dump(catalog, fh, protocol=pickle.HIGHEST_PROTOCOL)
                tmp.replace(path)
                for stale in CACHE_DIR.glob(f"catalog-seed{seed}-*.pickle"):
                    if stale != path:
                        stale.unlink(missing_ok=True)
            except OSError:
                pass
    _MEMO[seed] = catalog
    return catalog
