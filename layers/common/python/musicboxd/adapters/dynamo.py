"""DynamoDB adapter (PynamoDB): the album/search cache, leases, and small counters.

Design: docs/design/dynamodb-table.md. On the request path the cache's calls are built and read by
PynamoDB's model and sent by the container's ``DeadlineClient``, so each fits in the request's
remaining time (docs/design/deadlines.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
import uuid
import zlib
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.attributes import Attribute, BinaryAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from musicboxd.adapters.aws import cache_error
from musicboxd.config import KIND_INDEX, Settings
from musicboxd.errors import CacheRejected, CacheUnavailable, DeadlineExceeded
from musicboxd.models import Album, SearchPage
from musicboxd.ports import CachedAlbum, CachedSearch

ModelT = TypeVar("ModelT", Album, SearchPage)
logger = logging.getLogger(__name__)

KIND_ALBUM = "ALBUM"
KIND_MISSING = "MISSING"
KIND_SEARCH = "SEARCH"
KIND_LOCK = "LOCK"
TIER_PROVISIONAL = "provisional"  # a thin search page: cached briefly, never indexed

MAX_PARTITION_KEY_BYTES = 2048  # DynamoDB's limits, in UTF-8 bytes
MAX_SORT_KEY_BYTES = 1024
_DIGEST_MARK = "#h:"


def bounded_key(text: str, max_bytes: int) -> str:
    """``text`` if it fits in ``max_bytes`` UTF-8 bytes, else a readable prefix + its SHA-256.

    Distinct long keys stay distinct (the digest covers the whole text) and every key fits.
    """
    raw = text.encode()
    if len(raw) <= max_bytes:
        return text
    digest = hashlib.sha256(raw).hexdigest()
    room = max_bytes - len(_DIGEST_MARK) - len(digest)
    prefix = raw[:room].decode(errors="ignore")  # cut on a character boundary
    return f"{prefix}{_DIGEST_MARK}{digest}"


def album_pk(album_id: str) -> str:
    return f"ALBUM#{album_id}"


def _pack(payload: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode(), 6)


def _unpack(blob: bytes) -> dict[str, Any]:
    return json.loads(zlib.decompress(blob))


def _decode(model: type[ModelT], blob: bytes | None) -> ModelT | None:
    """The stored payload as ``model``, or None when it is missing or cannot be read."""
    if not blob:
        return None
    try:
        return model.model_validate(_unpack(blob))
    except (zlib.error, ValueError, TypeError):  # pydantic's ValidationError is a ValueError
        logger.warning("undecodable cache item treated as a miss")
        return None


class ExpiryAttribute(TTLAttribute):
    """The table's TTL attribute as epoch seconds, stored exactly like a NumberAttribute.

    Services compare expiries as numbers, so it reads and writes numbers (not TTLAttribute's
    datetimes); being a TTLAttribute lets ``Model.create_table`` switch DynamoDB's TTL on.
    """

    def __set__(self, instance: Any, value: Any) -> None:
        Attribute.__set__(self, instance, value)

    def serialize(self, value: Any) -> Any:
        return None if value is None else json.dumps(value)

    def deserialize(self, value: Any) -> Any:
        return json.loads(value)


class _KindIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = KIND_INDEX
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute(range_key=True)


class CacheItem(Model):
    """The table's item shape; ``make_model`` binds it to a table (name, endpoint, region)."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(null=True)
    expires_at = ExpiryAttribute(null=True)
    tier = UnicodeAttribute(null=True)
    fetched_at = NumberAttribute(null=True)
    data = BinaryAttribute(null=True, legacy_encoding=False)
    holder = UnicodeAttribute(null=True)
    origin = UnicodeAttribute(null=True)  # populate: the candidate source that brought the album
    by_kind = _KindIndex()


def make_model(settings: Settings, *, job: bool = False) -> type[CacheItem]:
    """The table's PynamoDB model bound to this configuration (table name, endpoint, region).

    ``job``: for the background jobs, which wait ``JOB_DYNAMODB_READ_TIMEOUT_SECONDS`` and retry.
    """

    class BoundCacheItem(CacheItem):
        class Meta:
            table_name = settings.table_name
            region = settings.aws_region
            host = settings.dynamodb_endpoint_url or None
            billing_mode = "PAY_PER_REQUEST"
            connect_timeout_seconds = 1
            # on the request path: fail fast, the services carry on without it
            read_timeout_seconds = settings.job_dynamodb_read_timeout_seconds if job else 2
            max_retry_attempts = 3 if job else 1

    return BoundCacheItem


def create_table(model: type[CacheItem]) -> None:
    """Create the table (local stack and tests; CDK owns it when deployed) with TTL on ``expires_at``."""
    model.create_table(wait=True)  # also enables TTL on the model's TTLAttribute


def model_client(model: type[CacheItem]) -> Any:
    """The botocore client of the model's own PynamoDB connection (jobs: no request deadline)."""
    return model._get_connection().connection.client


class _Table:
    """Calls on the table: PynamoDB builds each request and reads each item, ``client`` sends it.

    ``client`` (reads) and ``writer`` (writes; default: ``client``) default to the model's own
    connection; as ``DeadlineClient``s a call the request has no time left for is not made, and
    one cut short by the deadline is a miss for that call alone (``CacheRejected``), never an
    outage that switches the cache off.
    """

    def __init__(self, model: type[CacheItem], *, clock=time.time, client: Any = None, writer: Any = None):
        self.model = model
        self._clock = clock
        self._client = client
        self._writer = writer if writer is not None else client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else model_client(self.model)

    @property
    def writer(self) -> Any:
        return self._writer if self._writer is not None else model_client(self.model)

    def _get(self, pk: str, sk: str) -> Any:  # CacheItem | None (expires_at typed as a datetime by TTLAttribute)
        raw = self._send("get_item", self.model.get_operation_kwargs_from_class(pk, sk)).get("Item")
        return self.model.from_raw_data(raw) if raw else None

    def _put(self, item: CacheItem, condition: Any = None) -> bool:
        """Save ``item``; False (and the stored item left alone) when ``condition`` fails."""
        try:
            self._send("put_item", item.get_save_kwargs_from_instance(condition=condition), client=self.writer)
        except _ConditionFailed:
            return False
        return True

    def _send(self, operation: str, request: dict[str, Any], *, client: Any = None) -> dict[str, Any]:
        try:
            return getattr(client or self.client, operation)(**request)
        except DeadlineExceeded as exc:  # the request's time is up, not the table
            raise CacheRejected(str(exc)) from exc
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise _ConditionFailed from exc
            raise cache_error(exc) from exc
        except (BotoCoreError, PynamoDBException) as exc:
            raise cache_error(exc) from exc


class DynamoCache(_Table):
    """AlbumCache over one DynamoDB table. DynamoDB failures become CacheUnavailable (CacheRejected: one call)."""

    # -- albums

    def get_album(self, album_id: str) -> CachedAlbum | None:
        item = self._get(album_pk(album_id), "A")
        if item is None:
            return None
        album = None
        if item.kind == KIND_ALBUM:
            album = _decode(Album, item.data)
            if album is None:  # unreadable (corrupt or from an incompatible version): a miss
                return None
        return CachedAlbum(album=album, expires_at=float(item.expires_at or 0), tier=item.tier or "")

    def put_album(self, album: Album, *, tier: str, ttl_seconds: int, origin: str | None = None) -> None:
        """Write an album (``origin``: which populate source or refresh brought it, if any)."""
        now = self._clock()
        item = self.model(
            album_pk(album.id),
            "A",
            kind=KIND_ALBUM,
            tier=tier,
            origin=origin,
            fetched_at=int(now),
            expires_at=int(now + ttl_seconds),
            data=_pack(album.model_dump()),
        )
        self._put(item)

    def put_missing(self, album_id: str, *, ttl_seconds: int) -> None:
        """Negative-cache a 404, but never over a real album (keep what we had)."""
        now = self._clock()
        item = self.model(
            album_pk(album_id), "A", kind=KIND_MISSING, fetched_at=int(now), expires_at=int(now + ttl_seconds)
        )
        m = self.model
        self._put(item, condition=m.pk.does_not_exist() | (m.kind == KIND_MISSING))

    # -- searches

    def get_search(self, key: str) -> CachedSearch | None:
        pk, sk = _split_search_key(key)
        item = self._get(pk, sk)
        page = _decode(SearchPage, item.data) if item is not None else None
        if page is None:  # absent, empty or unreadable: a miss
            return None
        return CachedSearch(page=page, expires_at=float(item.expires_at or 0))

    def put_search(self, key: str, page: SearchPage, *, ttl_seconds: int, provisional: bool = False) -> None:
        now = self._clock()
        pk, sk = _split_search_key(key)
        item = self.model(
            pk,
            sk,
            kind=KIND_SEARCH,
            tier=TIER_PROVISIONAL if provisional else None,
            fetched_at=int(now),
            expires_at=int(now + ttl_seconds),
            data=_pack(page.model_dump()),
        )
        self._put(item)


class _ConditionFailed(Exception):
    """A conditional put found an item it must not overwrite."""


def _split_search_key(key: str) -> tuple[str, str]:
    pk, _, sk = key.rpartition("|")
    return bounded_key(pk, MAX_PARTITION_KEY_BYTES), bounded_key(sk, MAX_SORT_KEY_BYTES)


def _conditional_failed(exc: PynamoDBException) -> bool:
    return getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException"


class DynamoLease(_Table):
    """Short leases (conditional puts) so one instance does a job while the others wait."""

    def __init__(self, model: type[CacheItem], *, clock=time.time, client: Any = None):
        super().__init__(model, clock=clock, client=client)
        self._holder = uuid.uuid4().hex

    def acquire(self, name: str, *, ttl_seconds: float) -> bool:
        now = self._clock()
        m = self.model
        item = m(f"LOCK#{name}", "L", kind=KIND_LOCK, holder=self._holder, expires_at=int(now + ttl_seconds))
        return self._put(item, condition=m.pk.does_not_exist() | (m.expires_at < int(now)) | (m.holder == self._holder))

    def release(self, name: str) -> None:
        m = self.model
        with contextlib.suppress(_ConditionFailed, CacheUnavailable):  # otherwise it expires on its own
            self._send(
                "delete_item",
                m(f"LOCK#{name}", "L").get_delete_kwargs_from_instance(condition=m.holder == self._holder),
            )

    @property
    def holder(self) -> str:
        return self._holder

    def after_restore(self) -> None:
        """A SnapStart copy: its own holder id, or every copy would hold each other's leases."""
        self._holder = uuid.uuid4().hex
