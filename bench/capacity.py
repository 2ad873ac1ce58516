"""DynamoDB on-demand request units per request, metered by botocore hooks on every DynamoDB client.

moto reports fixed ``ConsumedCapacity`` values, so units are computed from item sizes the way
DynamoDB bills them (docs/design/http-caching.md, "Cost per million requests"): reads 4 KB per unit
(half a unit eventually consistent), writes 1 KB per unit, at least one unit (half for an
eventually consistent read) per item or request. An UpdateItem/DeleteItem that asked for no
attributes back is sent with ``ALL_NEW``/``ALL_OLD`` so its item size is known; the attributes
are removed again before the caller sees the answer.
"""

from __future__ import annotations

import base64
import math
import threading
from typing import Any

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
_INJECTED = "bench_capacity_injected"
_PARAMS = "bench_capacity_params"


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one typed attribute value (DynamoDB item size rules)."""
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return len(raw.strip("-").replace(".", "").lstrip("0")) // 2 + 1
    if kind == "B":
        return len(raw) if isinstance(raw, bytes) else len(base64.b64decode(raw))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(item.encode()) for item in raw)
    if kind == "NS":
        return sum(len(item) // 2 + 1 for item in raw)
    if kind == "BS":
        return sum(len(item) for item in raw)
    if kind == "L":
        return 3 + sum(value_size(item) + 1 for item in raw)
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_size(item) + 1 for name, item in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def read_units(total_bytes: int, *, consistent: bool) -> float:
    return max(1, math.ceil(total_bytes / READ_UNIT_BYTES)) * (1.0 if consistent else 0.5)


def written_kind(operation: str, params: dict[str, Any]) -> str:
    """What a write is for: the prefix of its partition key (``BUDGET``, ``SEARCH``, ``ALBUM``, ...)."""
    key = params.get("Key") or params.get("Item") or {}
    partition = next(iter(key.get("pk", {}).values()), None) if key else None
    return partition.split("#", 1)[0] if isinstance(partition, str) else operation


def write_units(total_bytes: int) -> float:
    return float(max(1, math.ceil(total_bytes / WRITE_UNIT_BYTES)))


class CapacityMeter:
    """Read and write request units consumed so far (thread-safe running totals)."""

    def __init__(self) -> None:
        self.read_units = 0.0
        self.write_units = 0.0
        self.writes_by_kind: dict[str, float] = {}  # write units by the written item's kind (pk prefix)
        self._lock = threading.Lock()

    def install(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)
        client.meta.events.register_last("after-call.dynamodb", self._hide_injected)

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS] = params
        if model.name in ("UpdateItem", "DeleteItem") and params.get("ReturnValues", "NONE") == "NONE":
            params["ReturnValues"] = "ALL_NEW" if model.name == "UpdateItem" else "ALL_OLD"
            context[_INJECTED] = True

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        params = context.get(_PARAMS, {})
        reads, writes = self.units(model.name, params, parsed)
        with self._lock:
            self.read_units += reads
            self.write_units += writes
            if writes:
                kind = written_kind(model.name, params)
                self.writes_by_kind[kind] = self.writes_by_kind.get(kind, 0.0) + writes

    @staticmethod
    def _hide_injected(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        """After every meter of the client has sized it (registered last)."""
        if context.get(_INJECTED):
            parsed.pop("Attributes", None)

    @staticmethod
    def units(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> tuple[float, float]:
        """(read units, write units) of one call, from its parameters and its answer."""
        consistent = bool(params.get("ConsistentRead"))
        if "Error" in parsed:  # a failed conditional write still costs a unit; a failed read too
            return (0.0, 1.0) if operation in ("PutItem", "UpdateItem", "DeleteItem") else (0.5, 0.0)
        if operation == "GetItem":
            return read_units(item_size(parsed.get("Item", {})), consistent=consistent), 0.0
        if operation == "BatchGetItem":
            reads = 0.0
            for table, items in parsed.get("Responses", {}).items():
                table_consistent = bool(params.get("RequestItems", {}).get(table, {}).get("ConsistentRead"))
                requested = len(params.get("RequestItems", {}).get(table, {}).get("Keys", []))
                reads += sum(read_units(item_size(item), consistent=table_consistent) for item in items)
                reads += max(0, requested - len(items)) * read_units(0, consistent=table_consistent)
            return reads, 0.0
        if operation in ("Query", "Scan"):
            items = parsed.get("Items", [])
            returned = sum(item_size(item) for item in items)
            scanned, count = parsed.get("ScannedCount", len(items)), parsed.get("Count", len(items))
            if scanned > count:  # filtered out after being read: billed as read, sized like those returned
                returned += (scanned - count) * (returned // count if count else WRITE_UNIT_BYTES)
            return read_units(returned, consistent=consistent), 0.0
        if operation == "PutItem":
            return 0.0, write_units(item_size(params.get("Item", {})))
        if operation in ("UpdateItem", "DeleteItem"):
            return 0.0, write_units(item_size(parsed.get("Attributes", {})))
        if operation == "BatchWriteItem":
            writes = 0.0
            for requests in params.get("RequestItems", {}).values():
                for request in requests:
                    put = request.get("PutRequest")
                    writes += write_units(item_size(put["Item"])) if put else write_units(0)
            return 0.0, writes
        if operation == "TransactWriteItems":
            items = params.get("TransactItems", [])
            return 0.0, 2 * sum(write_units(item_size(entry.get("Put", {}).get("Item", {}))) for entry in items)
        return 0.0, 0.0  # DescribeTable, CreateTable, ...: control plane, not billed per request
