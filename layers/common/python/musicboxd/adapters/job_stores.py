"""DynamoDB adapters of the background jobs and usage analytics, same single table (docs/design/cleanup.md).

Demand counters and checkpoints hold Spotify ids/queries: they carry a ``kind`` so cleanup deletes them
once expired; ``STATS#`` counters hold none and are left to TTL (docs/compliance.md).
"""

from __future__ import annotations

import hashlib
import heapq
import time
from collections.abc import Iterable
from typing import Any

from pynamodb.exceptions import DeleteError, PynamoDBException

from musicboxd.adapters.aws import cache_error
from musicboxd.adapters.dynamo import (
    KIND_ALBUM,
    KIND_MISSING,
    MAX_SORT_KEY_BYTES,
    DynamoCache,
    _conditional_failed,
    _pack,
    _unpack,
    album_pk,
    bounded_key,
    model_client,
)
from musicboxd.config import KIND_INDEX
from musicboxd.errors import CacheRejected, CacheUnavailable, DeadlineExceeded
from musicboxd.models import Album
from musicboxd.services.usage import DEMAND_ALBUM, DEMAND_QUERY

BATCH_GET = 100
KIND_DEMAND = "DEMAND"
# A key asked this often on one day is listed once in DEMANDHOT#<day>: top_demand ranks every
# such key even when the day has more counters than its read share (docs/design/usage-counters.md).
HOT_DEMAND_HITS = 3
KIND_JOB = "JOB"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(round(float(value), 3))


def _parse_number(raw: dict[str, str]) -> float:
    value = float(raw["N"])
    return int(value) if value.is_integer() else value


class _Guarded:
    """A botocore client whose failures surface as CacheUnavailable (like the PynamoDB paths)."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        method = getattr(self._client, name)

        def call(**kwargs):
            from botocore.exceptions import BotoCoreError, ClientError

            try:
                return method(**kwargs)
            except DeadlineExceeded as exc:  # the request's time is up, not the table
                raise CacheRejected(str(exc)) from exc
            except (BotoCoreError, ClientError) as exc:
                raise cache_error(exc) from exc

        return call


class _Client:
    """Raw DynamoDB calls PynamoDB's model API cannot express: ADDs on counter attributes named at
    run time (usage, demand), reads projecting them, and page-bounded counting. They use the
    model's own botocore client (no second client built at cold start); everything else in this
    module goes through PynamoDB's public API (get, save, delete, batch_get, index query).
    ``client`` (on the request path: a ``DeadlineClient``) replaces the model's own."""

    def __init__(self, model, *, client=None):
        self.model = model
        self.table = model.Meta.table_name
        self._client = client

    @property
    def client(self):
        return _Guarded(self._client if self._client is not None else model_client(self.model))

    def batch_get(self, keys: list[dict[str, Any]], projection: str | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET):
            request: dict[str, Any] = {"Keys": keys[start : start + BATCH_GET]}
            if projection:
                request["ProjectionExpression"] = projection
            pending = {self.table: request}
            for _ in range(5):
                answer = self.client.batch_get_item(RequestItems=pending)
                out.extend(answer.get("Responses", {}).get(self.table, []))
                pending = answer.get("UnprocessedKeys") or {}
                if not pending:
                    break
                time.sleep(0.05)
        return out


class DynamoUsage(_Client):
    """UsageStore + demand reader over atomic ADD updates."""

    def __init__(self, model, *, ttl_seconds: int, clock=time.time, client=None):
        super().__init__(model, client=client)
        self.ttl = ttl_seconds
        self._clock = clock

    def add_hourly(self, hour: str, counters: dict[str, float]) -> None:
        names = {"#ttl": "expires_at"}
        values: dict[str, Any] = {":ttl": {"N": str(int(self._clock() + self.ttl))}}
        adds = []
        for i, (name, value) in enumerate(sorted(counters.items())):
            names[f"#c{i}"] = name
            values[f":c{i}"] = {"N": _num(value)}
            adds.append(f"#c{i} :c{i}")
        self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"STATS#{hour}"}, "sk": {"S": "H"}},
            UpdateExpression="SET #ttl = if_not_exists(#ttl, :ttl) ADD " + ", ".join(adds),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def add_demand(self, day: str, counts: dict[str, int]) -> None:
        expires = str(int(self._clock() + self.ttl))
        for key, n in counts.items():  # one key per request on Lambda
            sort_key = bounded_key(key, MAX_SORT_KEY_BYTES)
            answer = self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": f"DEMAND#{day}"}, "sk": {"S": sort_key}},
                UpdateExpression="SET #ttl = if_not_exists(#ttl, :ttl), kind = :kind ADD hits :n",
                ExpressionAttributeNames={"#ttl": "expires_at"},
                ExpressionAttributeValues={
                    ":ttl": {"N": expires},
                    ":n": {"N": str(int(n))},
                    ":kind": {"S": KIND_DEMAND},
                },
                ReturnValues="UPDATED_NEW",
            )
            hits = int(answer["Attributes"]["hits"]["N"])
            if hits - n < HOT_DEMAND_HITS <= hits:  # crossed just now: listed once per day
                self.client.put_item(
                    TableName=self.table,
                    Item={
                        "pk": {"S": f"DEMANDHOT#{day}"},
                        "sk": {"S": sort_key},
                        "kind": {"S": KIND_DEMAND},
                        "expires_at": {"N": expires},
                    },
                )

    def claim_demand(self, day: str, client: str, wanted: int, *, cap: int) -> int:
        """One ADD on the caller's counter for ``day``; its new value says how many of ``wanted`` fit
        (exact under concurrency: ADD is atomic). The caller is kept as a hash, for two days."""
        answer = self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"DEMANDCAP#{day}"}, "sk": {"S": hashlib.sha256(client.encode()).hexdigest()[:32]}},
            UpdateExpression="SET #ttl = if_not_exists(#ttl, :ttl) ADD claimed :n",
            ExpressionAttributeNames={"#ttl": "expires_at"},
            ExpressionAttributeValues={":ttl": {"N": str(int(self._clock() + 2 * 86_400))}, ":n": {"N": str(wanted)}},
            ReturnValues="UPDATED_NEW",
        )
        before = int(answer["Attributes"]["claimed"]["N"]) - wanted
        return max(0, min(wanted, cap - before))

    def read_hourly(self, hours: list[str]) -> dict[str, dict[str, float]]:
        items = self.batch_get([{"pk": {"S": f"STATS#{h}"}, "sk": {"S": "H"}} for h in hours])
        rows: dict[str, dict[str, float]] = {}
        for item in items:
            hour = item["pk"]["S"].removeprefix("STATS#")
            rows[hour] = {k: _parse_number(v) for k, v in item.items() if k not in ("pk", "sk", "expires_at")}
        return rows

    def top_demand(self, days: Iterable[str], *, max_items: int = 200_000, top: int = 1000) -> dict[str, int]:
        """The ``top`` most-requested albums and the ``top`` most-asked queries over ``days``.

        Every (day, kind) gets an equal share of the ``max_items`` read budget, so neither the
        oldest day nor the albums (sorted before the queries) starve the rest. A share reads the
        day's counters in sort-key order; every key asked ``HOT_DEMAND_HITS`` times that day is
        added from the day's hot list wherever it sorts. Then the top K of each kind is kept.
        """
        days = list(days)
        share = max(1, max_items // max(1, 2 * len(days)))
        kinds: dict[str, dict[str, int]] = {DEMAND_ALBUM: {}, DEMAND_QUERY: {}}
        for day in days:
            for prefix, totals in kinds.items():
                counted = dict(self._demand_items(f"DEMAND#{day}", prefix, share))
                hot = [key for key, _ in self._demand_items(f"DEMANDHOT#{day}", prefix, share) if key not in counted]
                keys = [{"pk": {"S": f"DEMAND#{day}"}, "sk": {"S": key}} for key in hot]
                for item in self.batch_get(keys, projection="sk, hits"):
                    counted[item["sk"]["S"]] = int(float(item["hits"]["N"]))
                for key, hits in counted.items():
                    totals[key] = totals.get(key, 0) + hits
        return {
            key: hits
            for totals in kinds.values()
            for key, hits in heapq.nlargest(top, totals.items(), key=lambda item: (item[1], item[0]))
        }

    def _demand_items(self, partition: str, prefix: str, max_items: int) -> Iterable[tuple[str, int]]:
        """(sort key, hits) of at most ``max_items`` items of ``partition`` whose sort key starts with ``prefix``."""
        start = None
        read = 0
        while read < max_items:
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :kind)",
                "ExpressionAttributeValues": {":pk": {"S": partition}, ":kind": {"S": prefix}},
                "ProjectionExpression": "sk, hits",
                "Limit": max_items - read,
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            answer = self.client.query(**kwargs)
            for item in answer.get("Items", []):
                read += 1
                yield item["sk"]["S"], int(float(item.get("hits", {"N": "0"})["N"]))
            start = answer.get("LastEvaluatedKey")
            if not start:
                return


class DynamoCheckpoints:
    """CheckpointStore: one small item per job (``JOB#<name>``)."""

    def __init__(self, model, *, ttl_seconds: int = 90 * 86_400, clock=time.time):
        self.model = model
        self.ttl = ttl_seconds
        self._clock = clock

    def load(self, name: str) -> dict[str, Any] | None:
        try:
            item = self.model.get(f"JOB#{name}", "C")
        except self.model.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise CacheUnavailable(str(exc)) from exc
        return _unpack(item.data) if item.data else None

    def save(self, name: str, state: dict[str, Any]) -> None:
        now = self._clock()
        item = self.model(
            f"JOB#{name}", "C", kind=KIND_JOB, fetched_at=int(now), expires_at=int(now + self.ttl), data=_pack(state)
        )
        try:
            item.save()
        except PynamoDBException as exc:
            raise CacheUnavailable(str(exc)) from exc


class DynamoAlbumStore:
    """What populate and refresh-ahead need from the cache: expiries in bulk, tiered writes."""

    def __init__(self, model, *, clock=time.time):
        self.model = model
        self._clock = clock
        self._cache = DynamoCache(model, clock=clock)

    def album_expiries(self, album_ids: list[str]) -> dict[str, float]:
        """Expiry of every cached album/negative entry among ``album_ids`` (absent: not cached)."""
        if not album_ids:
            return {}
        keys = [(album_pk(album_id), "A") for album_id in dict.fromkeys(album_ids)]
        try:
            items = list(self.model.batch_get(keys, attributes_to_get=["pk", "expires_at"]))
        except PynamoDBException as exc:
            raise CacheUnavailable(str(exc)) from exc
        return {item.pk.removeprefix("ALBUM#"): float(item.expires_at or 0) for item in items}

    def put_popular(self, album: Album, *, tier: str, ttl_seconds: int, source: str) -> None:
        self._cache.put_album(album, tier=tier, ttl_seconds=ttl_seconds, origin=source)

    def put_missing(self, album_id: str, *, ttl_seconds: int) -> None:
        self._cache.put_missing(album_id, ttl_seconds=ttl_seconds)


class DynamoMaintenance(_Client):
    """Cleanup's view of the table through the ``by_kind_expiry`` GSI."""

    def expired_page(
        self, kind: str, now: float, *, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of (pk, sk, expires_at) whose ``expires_at < now``, oldest first."""
        m = self.model
        try:
            results = m.by_kind.query(
                kind,
                m.expires_at < int(now),
                attributes_to_get=["pk", "sk", "kind", "expires_at"],
                limit=limit,
                page_size=limit,
                last_evaluated_key=start or None,
            )
            items = [{"pk": i.pk, "sk": i.sk, "expires_at": float(i.expires_at)} for i in results]
        except PynamoDBException as exc:
            raise CacheUnavailable(str(exc)) from exc
        return items, results.last_evaluated_key

    def delete_if_expired(self, pk: str, sk: str, now: float) -> bool:
        """Delete unless the item is fresh (or already gone): ``expires_at < now`` is the condition."""
        m = self.model
        try:
            m(pk, sk).delete(condition=m.expires_at < int(now))
            return True
        except DeleteError as exc:
            if _conditional_failed(exc):
                return False
            raise CacheUnavailable(str(exc)) from exc
        except PynamoDBException as exc:
            raise CacheUnavailable(str(exc)) from exc

    def expiring_albums(self, now: float, until: float, *, limit: int = 1000) -> list[tuple[str, str, float]]:
        """(album id, tier, expires_at) of albums fresh now but expiring before ``until``."""
        m = self.model
        try:
            results = m.by_kind.query(
                KIND_ALBUM,
                m.expires_at.between(int(now), int(until)),
                attributes_to_get=["pk", "tier", "expires_at"],
                limit=limit,
            )
            return [(i.pk.removeprefix("ALBUM#"), i.tier or "", float(i.expires_at)) for i in results]
        except PynamoDBException as exc:
            raise CacheUnavailable(str(exc)) from exc

    def count_items(self, kind: str, now: float, *, max_pages: int = 50) -> dict[str, int]:
        """Fresh items per tier and expired-unreaped items of one kind (bounded; ``partial`` if cut)."""
        counts: dict[str, int] = {"expired": 0, "partial": 0}
        start = None
        for _ in range(max_pages):
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": KIND_INDEX,
                "KeyConditionExpression": "kind = :k",
                "ExpressionAttributeValues": {":k": {"S": kind}},
                "ExpressionAttributeNames": {"#t": "tier"},
                "ProjectionExpression": "#t, expires_at",
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            answer = self.client.query(**kwargs)
            for i in answer.get("Items", []):
                if float(i.get("expires_at", {"N": "0"})["N"]) < now:
                    counts["expired"] += 1
                else:
                    tier = i.get("tier", {"S": kind.lower()})["S"] or kind.lower()
                    counts[tier] = counts.get(tier, 0) + 1
            start = answer.get("LastEvaluatedKey")
            if not start:
                break
        else:
            counts["partial"] = 1
        return counts


__all__ = [
    "DynamoAlbumStore",
    "DynamoCheckpoints",
    "DynamoMaintenance",
    "DynamoUsage",
    "KIND_MISSING",
]
