"""DynamoDB adapters of the tier-1 index: chunked artifact, sweep pages, popular-tier reader (docs/design/tier1.md)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

from pynamodb.exceptions import PutError, PynamoDBException, UpdateError

from musicboxd.adapters.dynamo import KIND_ALBUM, KIND_SEARCH, TIER_PROVISIONAL, CacheItem, _pack, _unpack
from musicboxd.errors import CacheUnavailable
from musicboxd.models import Album, AlbumSummary, SearchPage
from musicboxd.ports import TIER_POPULAR, CachedAlbum, IndexPointer, SweepPage

KIND_INDEX = "INDEX"
KIND_SWEEP = "SWEEP"
POINTER_PK, POINTER_SK = "INDEX#current", "P"
CHUNK_BYTES = 350_000
MAX_CHUNKS = 100  # one BatchGetItem
OLD_VERSION_TTL = 86_400


def _chunk_sk(n: int) -> str:
    return f"C#{n:04d}"


class DynamoIndexStore:
    """IndexStore over the cache table. DynamoDB failures become CacheUnavailable."""

    def __init__(self, model: type[CacheItem], *, clock=time.time, chunk_bytes: int = CHUNK_BYTES):
        self.model = model
        self._clock = clock
        self._chunk = chunk_bytes

    def current(self) -> IndexPointer | None:
        try:
            item = self.model.get(POINTER_PK, POINTER_SK)
        except self.model.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise CacheUnavailable(str(exc)) from exc
        return IndexPointer(**json.loads(item.data))

    def load(self, pointer: IndexPointer) -> bytes:
        keys = [(f"INDEX#{pointer.version}", _chunk_sk(n)) for n in range(pointer.chunks)]
        try:
            parts = {item.sk: bytes(item.data) for item in self.model.batch_get(keys)}
        except PynamoDBException as exc:
            raise CacheUnavailable(str(exc)) from exc
        if len(parts) != pointer.chunks:
            raise ValueError(f"index {pointer.version}: {len(parts)} of {pointer.chunks} chunks found")
        blob = b"".join(parts[_chunk_sk(n)] for n in range(pointer.chunks))
        if hashlib.sha256(blob).hexdigest() != pointer.checksum:
            raise ValueError(f"index {pointer.version}: checksum mismatch")
        return blob

    def save(self, blob: bytes, *, version: str, built_at: float, albums: int) -> IndexPointer:
        chunks = [blob[i : i + self._chunk] for i in range(0, len(blob), self._chunk)] or [b""]
        if len(chunks) > MAX_CHUNKS:
            raise ValueError(f"index of {len(blob)} bytes needs {len(chunks)} chunks (max {MAX_CHUNKS})")
        pointer = IndexPointer(
            version=version, chunks=len(chunks), checksum=hashlib.sha256(blob).hexdigest(),
            size=len(blob), built_at=built_at, albums=albums,
        )  # fmt: skip
        m = self.model
        now = int(self._clock())
        try:
            previous = self.current()
            with m.batch_write() as batch:
                for n, part in enumerate(chunks):
                    batch.save(m(f"INDEX#{version}", _chunk_sk(n), kind=KIND_INDEX, fetched_at=now, data=part))
            m(POINTER_PK, POINTER_SK, kind=KIND_INDEX, fetched_at=now,
              data=json.dumps(pointer.__dict__).encode()).save()  # fmt: skip
            if previous is not None and previous.version != version:
                for n in range(previous.chunks):  # a handful of small updates, once per build
                    m(f"INDEX#{previous.version}", _chunk_sk(n)).update(
                        # ExpiryAttribute holds epoch numbers; PynamoDB types every TTLAttribute as datetime.
                        actions=[m.expires_at.set(now + OLD_VERSION_TTL)],  # type: ignore[arg-type]
                        condition=m.pk.exists(),
                    )
        except PutError as exc:
            raise CacheUnavailable(str(exc)) from exc
        except UpdateError as exc:
            if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
                raise CacheUnavailable(str(exc)) from exc
        except PynamoDBException as exc:
            raise CacheUnavailable(str(exc)) from exc
        return pointer


class DynamoPopularAlbums:
    """PopularAlbumSource: GSI ``by_kind_expiry`` kind=ALBUM, not yet expired, tier=popular."""

    def __init__(self, model: type[CacheItem], *, clock=time.time, tiers: tuple[str, ...] = (TIER_POPULAR,)):
        self.model = model
        self._clock = clock
        self._tiers = tiers

    def popular_albums(self) -> Iterator[CachedAlbum]:
        condition: Any = self.model.tier.is_in(*self._tiers)
        for item in _live(self.model, KIND_ALBUM, self._clock, filter_condition=condition):
            if item.data:
                yield CachedAlbum(
                    album=Album.model_validate(_unpack(item.data)),
                    expires_at=float(item.expires_at or 0),
                    tier=item.tier or "",
                )


class DynamoSweepStore:
    """SweepStore: one item per sweep page; listed through the GSI (kind SWEEP, not expired)."""

    def __init__(self, model: type[CacheItem], *, clock=time.time):
        self.model = model
        self._clock = clock

    def put_page(self, page: SweepPage, *, ttl_seconds: int) -> None:
        now = int(self._clock())
        body = {"total": page.total, "items": [a.model_dump(exclude_none=True) for a in page.items]}
        try:
            self.model(f"SWEEP#{page.list_id}", f"O#{page.offset:05d}", kind=KIND_SWEEP, fetched_at=now,
                       expires_at=now + ttl_seconds, data=_pack(body)).save()  # fmt: skip
        except PynamoDBException as exc:
            raise CacheUnavailable(str(exc)) from exc

    def pages(self) -> Iterator[SweepPage]:
        for item in _live(self.model, KIND_SWEEP, self._clock):
            body = _unpack(item.data)
            yield SweepPage(
                list_id=item.pk.removeprefix("SWEEP#"),
                offset=int(item.sk.removeprefix("O#")),
                total=int(body["total"]),
                items=tuple(AlbumSummary.model_validate(a) for a in body["items"]),
            )


class DynamoSearchedPages:
    """SearchedPages: cached first pages of searches (GSI kind SEARCH, not expired), newest expiry first."""

    def __init__(self, model: type[CacheItem], *, clock=time.time, max_pages: int = 20_000):
        self.model = model
        self._clock = clock
        self._max = max_pages

    def searched_pages(self) -> Iterator[tuple[str, SearchPage]]:
        served = 0
        for item in _live(self.model, KIND_SEARCH, self._clock, scan_index_forward=False):
            if served >= self._max:
                return
            if not item.sk.startswith("0:") or not item.data or item.tier == TIER_PROVISIONAL:
                continue
            served += 1
            yield item.pk.split("#", 2)[2], SearchPage.model_validate(_unpack(item.data))


def _live(model: type[CacheItem], kind: str, clock, **query) -> Iterator[Any]:
    """Items of ``kind`` not yet expired (GSI ``by_kind_expiry``); DynamoDB failures as CacheUnavailable."""
    try:
        yield from model.by_kind.query(kind, model.expires_at > int(clock()), **query)
    except PynamoDBException as exc:
        raise CacheUnavailable(str(exc)) from exc
