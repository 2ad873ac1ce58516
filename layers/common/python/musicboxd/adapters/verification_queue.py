"""DynamoDB adapter of the tier-1 verification queue (``VerificationQueue`` port).

=====================  ========================  ==========================================
pk                     sk                        what
=====================  ========================  ==========================================
``VERIFY#pending``     ``<epoch ms>#<random>``   one pending check (JSON), TTL'd
=====================  ========================  ==========================================

One partition, read oldest first by the verify job; no ``kind`` (stays out of the GSI). A check
nobody verified within ``ttl_seconds`` is reaped by TTL (and skipped by ``take`` before that).
Sampling keeps writes low: ``TIER1_VERIFY_RATE`` of tier-1 answers, batched per container flush.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from musicboxd.adapters.jobs import _Client
from musicboxd.ports import PendingCheck

PARTITION = "VERIFY#pending"
BATCH_WRITE = 25


class DynamoVerificationQueue(_Client):
    def __init__(self, model, *, ttl_seconds: int = 86_400, clock=time.time):
        super().__init__(model)
        self.ttl = ttl_seconds
        self._clock = clock

    def put(self, checks: list[PendingCheck]) -> None:
        now = self._clock()
        items = []
        for check in checks:
            body = {"q": check.query, "s": check.shape, "l": check.limit, "ids": list(check.tier1_ids), "at": check.at}
            items.append({
                "pk": {"S": PARTITION},
                "sk": {"S": f"{int(now * 1000):013d}#{uuid.uuid4().hex[:8]}"},
                "data": {"S": json.dumps(body, separators=(",", ":"), ensure_ascii=False)},
                "expires_at": {"N": str(int(now + self.ttl))},
            })  # fmt: skip
        self._batch_write([{"PutRequest": {"Item": item}} for item in items])

    def take(self, max_items: int) -> list[tuple[str, PendingCheck]]:
        out: list[tuple[str, PendingCheck]] = []
        start: dict[str, Any] | None = None
        now = self._clock()
        while len(out) < max_items:
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": PARTITION}},
                "Limit": max_items - len(out),
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            answer = self.client.query(**kwargs)
            for item in answer.get("Items", []):
                if float(item.get("expires_at", {"N": "0"})["N"]) <= now:
                    continue
                body = json.loads(item["data"]["S"])
                check = PendingCheck(body["q"], body["s"], int(body["l"]), tuple(body["ids"]), float(body["at"]))
                out.append((item["sk"]["S"], check))
            start = answer.get("LastEvaluatedKey")
            if not start:
                break
        return out

    def done(self, keys: list[str]) -> None:
        self._batch_write([{"DeleteRequest": {"Key": {"pk": {"S": PARTITION}, "sk": {"S": key}}}} for key in keys])

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for first in range(0, len(requests), BATCH_WRITE):
            pending: dict[str, Any] = {self.table: requests[first : first + BATCH_WRITE]}
            for _ in range(5):
                answer = self.client.batch_write_item(RequestItems=pending)
                pending = answer.get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(0.05)
