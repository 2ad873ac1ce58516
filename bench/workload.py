"""A reproducible Zipf workload of searches and album views over the emulator's catalog.

Albums available in the US market (we search with market US) are ranked by the catalog's
hidden popularity; the album behind each request is drawn with probability proportional to
``1 / rank ** s`` (Zipf). A request is a search (``search_share``) or an album view. A search
is made from the drawn album as a user would type it:

========  =====  ==============================================================
variant   share  query
========  =====  ==============================================================
title     35 %   the album title
artist    25 %   its (first) artist's name
partial   20 %   the first words of the title, or a cut-off prefix of it
typo      10 %   one of two misspellings of the title fixed per album (dropped
                 or swapped letters: common misspellings recur, like queries)
unicode   10 %   an album with non-ASCII letters in its title: the title as
                 typed without accents / in other case (NFKD-stripped, upper)
========  =====  ==============================================================

The stream is split into a warm-up phase (caches fill; not scored) and a steady phase
(scored). The same seed always gives the same requests.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from itertools import accumulate

VARIANTS = (("title", 0.35), ("artist", 0.25), ("partial", 0.20), ("typo", 0.10), ("unicode", 0.10))


@dataclass(frozen=True)
class Request:
    phase: str  # warmup | steady
    kind: str  # search | album
    variant: str  # title | artist | partial | typo | unicode | view
    value: str  # the query, or the album id
    album_id: str  # the album the user had in mind

    @property
    def path(self) -> str:
        return f"/albums/{self.value}" if self.kind == "album" else "/search"


def _strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _typos(name: str, album_id: str) -> list[str]:
    """Two misspellings fixed per album (the same ones every time)."""
    rng = random.Random(f"typo:{album_id}")
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 4:
        return [name + name[-1:], name]
    out = []
    i = rng.choice(letters[1:])
    out.append(name[:i] + name[i + 1 :])  # dropped letter
    j = rng.choice(letters[1:-1])
    out.append(name[:j] + name[j + 1] + name[j] + name[j + 2 :])  # swapped neighbours
    return out


def _partial(name: str, artist: str, rng: random.Random) -> str:
    words = name.split()
    if len(words) >= 2 and rng.random() < 0.5:
        return " ".join(words[: rng.randint(1, len(words) - 1)])
    if len(name) >= 6:
        return name[: max(3, int(len(name) * rng.uniform(0.4, 0.7)))].rstrip()
    return artist.split()[0]


class Workload:
    def __init__(self, catalog, *, seed: int, warmup: int, steady: int, s: float = 1.0,
                 search_share: float = 0.6, market: str = "US"):  # fmt: skip
        self.catalog = catalog
        self.seed = seed
        self.s = s
        self.search_share = search_share
        albums = [a for a in catalog.albums if market in a.markets]
        albums.sort(key=lambda a: (-a.popularity, a.index))
        self.ranked = albums
        self.cum = list(accumulate(1.0 / (r + 1) ** s for r in range(len(albums))))
        accented = [a for a in albums if any(ord(ch) > 127 for ch in a.name)]
        self.accented = accented
        self.cum_accented = list(accumulate(1.0 / (r + 1) ** s for r in range(len(accented))))
        rng = random.Random(seed)
        self.requests = [self._one(rng, "warmup") for _ in range(warmup)]
        self.requests += [self._one(rng, "steady") for _ in range(steady)]

    def _one(self, rng: random.Random, phase: str) -> Request:
        album = rng.choices(self.ranked, cum_weights=self.cum)[0]
        if rng.random() >= self.search_share:
            return Request(phase, "album", "view", album.id, album.id)
        variant = rng.choices([v for v, _ in VARIANTS], weights=[w for _, w in VARIANTS])[0]
        artist = self.catalog.artists[album.artists[0]].name
        if variant == "title":
            q = album.name
        elif variant == "artist":
            q = artist
        elif variant == "partial":
            q = _partial(album.name, artist, rng)
        elif variant == "typo":
            q = rng.choice(_typos(album.name, album.id))
        else:
            album = rng.choices(self.accented, cum_weights=self.cum_accented)[0]
            stripped = _strip_accents(album.name)
            q = stripped if stripped != album.name and rng.random() < 0.7 else album.name.upper()
        return Request(phase, "search", variant, q.strip() or album.name, album.id)

    def phase(self, name: str) -> list[Request]:
        return [r for r in self.requests if r.phase == name]

    def describe(self) -> dict:
        from collections import Counter

        return {
            "seed": self.seed,
            "zipf_s": self.s,
            "albums_ranked": len(self.ranked),
            "warmup": len(self.phase("warmup")),
            "steady": len(self.phase("steady")),
            "search_share": self.search_share,
            "variants": dict(Counter(r.variant for r in self.requests)),
            "distinct_requests": len({(r.kind, r.value) for r in self.requests}),
        }
