"""DynamoDB store of a shared call budget + 429 circuit: ONE item, ONE UpdateItem per call.

Design: docs/design/rate-budget.md.
"""

from __future__ import annotations

import math
import re
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from musicboxd.adapters.aws import DeadlineClient
from musicboxd.errors import CacheUnavailable
from musicboxd.ports import CIRCUIT_CLOSED, PROBE_BUSY, WINDOW_FULL, Grant

PROBE_LEASE_SECONDS = 10.0
_SLICE_ATTR = re.compile(r"^[ig](\d+)$")
_MAX_REMOVALS = 24


def dynamodb_client(
    region: str, endpoint_url: str, *, remaining: Callable[[], float] = lambda: float("inf"), max_attempts: int = 2
) -> Any:
    """A small, fast-failing client: the budget never costs a request more than ~1 s or its time left."""
    return DeadlineClient(
        "dynamodb",
        region,
        endpoint_url,
        remaining=remaining,
        connect_timeout=0.5,
        read_timeout=1.0,
        max_attempts=max_attempts,
        max_pool_connections=20,
    )


class DynamoBudgetStore:
    """BudgetStore for one upstream (``name``) in the cache table."""

    def __init__(
        self,
        client,
        table_name: str,
        *,
        name: str,
        limit: int,
        window_seconds: float,
        slice_seconds: float,
        background_fraction: float = 0.5,
        ttl_seconds: float | None = None,
    ):
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self._client = client
        self._table = table_name
        self.limit = int(limit)
        self.background_limit = max(1, math.floor(limit * background_fraction))
        self.slice_ms = max(1, round(slice_seconds * 1000))
        # Slices that must be summed so the span covers any rolling window ending now.
        self.span = math.ceil(window_seconds * 1000 / self.slice_ms) + 1
        self.key = {
            "pk": {"S": f"BUDGET#{name}"},
            "sk": {"S": f"{self.limit}:{self.background_limit}:{self.slice_ms}:{self.span}"},
        }
        self._holder = uuid.uuid4().hex
        self._ttl = ttl_seconds  # per-client shares: the item expires when the caller goes away
        self._stale: set[str] = set()
        self._lock = threading.Lock()

    def after_restore(self) -> None:
        """A SnapStart copy: its own probe-lease holder id (copies must not share one)."""
        self._holder = uuid.uuid4().hex

    # -- BudgetStore

    def take(self, *, now: float, interactive: bool) -> Grant:
        k = self.slice_of(now)
        first = k - self.span + 1
        base = "i" if interactive else "g"
        # Oldest slice of the span that had a call decides: n < base_j.
        condition = f"(attribute_not_exists({base}{k}) OR n < {base}{k})"
        for j in range(k - 1, first - 1, -1):
            here = f"{base}{j}"
            condition = f"((attribute_exists({here}) AND n < {here}) OR (attribute_not_exists({here}) AND {condition}))"
        circuit = "(attribute_not_exists(cu) OR (cu <= :now AND (attribute_not_exists(pu) OR pu <= :now)))"
        with self._lock:
            stale = sorted(self._stale)[:_MAX_REMOVALS]
        update = (
            f"SET i{k} = if_not_exists(i{k}, a), g{k} = if_not_exists(g{k}, b), pu = :pu, ph = :me"
            " ADD n :one, a :one, b :one"
        )
        values = {
            ":one": {"N": "1"},
            ":now": {"N": _num(now)},
            ":pu": {"N": _num(now + PROBE_LEASE_SECONDS)},
            ":me": {"S": self._holder},
        }
        if self._ttl is not None:
            update = update.replace("SET ", "SET expires_at = :exp, ", 1)
            values[":exp"] = {"N": str(int(now + self._ttl))}
        if stale:
            update += " REMOVE " + ", ".join(stale)
        try:
            response = self._update(update, f"{circuit} AND {condition}", values)
        except _Refused as refused:
            return self._why(refused.item, now=now, k=k)
        item = response.get("Attributes") or {}
        self._collect_stale(item, first)
        closed = item.get("cu")
        return Grant(True, probe=closed is not None and float(closed["N"]) <= now)

    def close(self, *, until: float, quota: bool, now: float) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self.key,
                UpdateExpression="SET cu = :until, q = :q REMOVE pu, ph",
                ConditionExpression="attribute_not_exists(cu) OR cu < :until",
                ExpressionAttributeValues={":until": {"N": _num(until)}, ":q": {"BOOL": bool(quota)}},
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":  # a longer closure is already there
                raise CacheUnavailable(f"budget close failed: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise CacheUnavailable(f"budget close failed: {type(exc).__name__}") from exc

    def reopen(self, *, now: float) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self.key,
                UpdateExpression="REMOVE cu, q, pu, ph",
                ConditionExpression="cu <= :now",
                ExpressionAttributeValues={":now": {"N": _num(now)}},
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise CacheUnavailable(f"budget reopen failed: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise CacheUnavailable(f"budget reopen failed: {type(exc).__name__}") from exc

    # -- helpers

    def slice_of(self, now: float) -> int:
        return int(now * 1000) // self.slice_ms

    def read(self) -> dict:
        """The raw item (tests, debugging)."""
        return self._client.get_item(TableName=self._table, Key=self.key, ConsistentRead=True).get("Item") or {}

    def _update(self, update: str, condition: str, values: dict) -> dict:
        for attempt in range(2):
            try:
                return self._client.update_item(
                    TableName=self._table,
                    Key=self.key,
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as exc:
                code = _code(exc)
                if code == "ConditionalCheckFailedException":
                    item = exc.response.get("Item")
                    raise _Refused(item if isinstance(item, dict) else {}) from None
                if code == "ValidationException" and attempt == 0 and "does not exist" in str(exc):
                    self._create()  # first use of this item: a, b and n must exist
                    continue
                raise CacheUnavailable(f"budget update failed: {code}") from exc
            except BotoCoreError as exc:
                raise CacheUnavailable(f"budget update failed: {type(exc).__name__}") from exc
        raise CacheUnavailable("budget item could not be created")

    def _create(self) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **self.key,
                    "kind": {"S": "BUDGET"},
                    "n": {"N": "0"},
                    "a": {"N": str(self.limit)},
                    "b": {"N": str(self.background_limit)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise CacheUnavailable(f"budget create failed: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise CacheUnavailable(f"budget create failed: {type(exc).__name__}") from exc

    def _why(self, item: dict, *, now: float, k: int) -> Grant:
        self._collect_stale(item, k - self.span + 1)
        closed = float(item["cu"]["N"]) if "cu" in item else None
        if closed is not None and closed > now:
            return Grant(False, CIRCUIT_CLOSED, retry_at=closed)
        if closed is not None and "pu" in item and float(item["pu"]["N"]) > now:
            return Grant(False, PROBE_BUSY, retry_at=min(float(item["pu"]["N"]), now + 1.0))
        # The window is full: it frees up at the next slice boundary at the earliest.
        return Grant(False, WINDOW_FULL, retry_at=(k + 1) * self.slice_ms / 1000)

    def _collect_stale(self, item: dict, first: int) -> None:
        stale = {name for name in item if (m := _SLICE_ATTR.match(name)) and int(m.group(1)) < first}
        with self._lock:
            self._stale = stale


class _Refused(Exception):
    def __init__(self, item: dict):
        self.item = item


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _num(value: float) -> str:
    return str(Decimal(str(round(value, 3))))
