"""DynamoDB adapter of the tier-1 verification queue (``VerificationQueue`` port), on PynamoDB.

=====================  ========================  ==========================================
pk                     sk                        what
=====================  ========================  ==========================================
``VERIFY#pending``     ``<epoch ms>#<random>``   one pending check (zlib JSON), TTL'd
=====================  ========================  ==========================================

One partition, read oldest first by the verify run; no ``kind`` (stays out of the GSI). A check
nobody verified within ``ttl_seconds`` is reaped by TTL (and skipped by ``take`` before that).
A container's sampled checks go out with its usage flush (PutItem each; the verify run deletes
what it checked with DeleteItem: no grant beyond what the functions already hold).
"""

from __future__ import annotations

import time
import uuid

from pynamodb.exceptions import PynamoDBException

from musicboxd.adapters.dynamo import _pack, _unpack
from musicboxd.errors import CacheUnavailable
from musicboxd.ports import PendingCheck

PARTITION = "VERIFY#pending"


class DynamoVerificationQueue:
    def __init__(self, model, *, ttl_seconds: int = 86_400, clock=time.time):
        self.model = model
        self.ttl = ttl_seconds
        self._clock = clock

    def put(self, checks: list[PendingCheck]) -> None:
        now = self._clock()
        try:
            for check in checks:  # PutItem each (a flush holds a few; the functions hold no BatchWriteItem grant)
                body = {"q": check.query, "s": check.shape, "l": check.limit, "ids": list(check.tier1_ids),
                        "at": check.at}  # fmt: skip
                sort_key = f"{int(now * 1000):013d}#{uuid.uuid4().hex[:8]}"
                self.model(PARTITION, sort_key, expires_at=int(now + self.ttl), data=_pack(body)).save()
        except PynamoDBException as exc:
            raise CacheUnavailable(str(exc)) from exc

    def take(self, max_items: int) -> list[tuple[str, PendingCheck]]:
        out: list[tuple[str, PendingCheck]] = []
        if max_items <= 0:
            return out
        now = self._clock()
        try:
            for item in self.model.query(PARTITION, page_size=max_items):
                if item.expires_at is not None and item.expires_at <= now:
                    continue  # expired, not reaped yet
                body = _unpack(item.data)
                out.append((item.sk, PendingCheck(body["q"], body["s"], int(body["l"]), tuple(body["ids"]),
                                                  float(body["at"]))))  # fmt: skip
                if len(out) >= max_items:
                    break
        except PynamoDBException as exc:
            raise CacheUnavailable(str(exc)) from exc
        return out

    def done(self, keys: list[str]) -> None:
        try:
            for key in keys:  # DeleteItem each: at most TIER1_VERIFY_BATCH per run
                self.model(PARTITION, key).delete()
        except PynamoDBException as exc:
            raise CacheUnavailable(str(exc)) from exc
