"""Make in-process moto behave like DynamoDB where our correctness depends on it.

DynamoDB applies each conditional write atomically per item; moto's threaded server does
not lock, so two concurrent conditional UpdateItems can both pass their condition. The shared
rate budget and the circuit's probe lease rely on that atomicity, so the local stack and the
tests serialize moto's DynamoDB writes (one process-wide lock; moto is in-process here).
"""

from __future__ import annotations

import functools
import threading

_LOCK = threading.RLock()
_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")


def serialize_dynamodb_writes() -> None:
    """Idempotent: wrap moto's DynamoDB write operations in one lock."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        original = getattr(DynamoDBBackend, name)
        if getattr(original, "_musicboxd_atomic", False):
            continue

        def make(fn):
            @functools.wraps(fn)
            def atomic(self, *args, **kwargs):
                with _LOCK:
                    return fn(self, *args, **kwargs)

            atomic._musicboxd_atomic = True  # type: ignore[attr-defined]
            return atomic

        setattr(DynamoDBBackend, name, make(original))
