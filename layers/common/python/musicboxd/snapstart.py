"""Lambda SnapStart hooks for the HTTP functions: what the snapshot holds, what each copy renews.

Publishing a version runs the init code, then the before-snapshot hooks, then snapshots the
memory; every cold start restores that memory and runs the after-restore hooks first. Before
the snapshot: the function's services and clients are built (every import of a hit and of a
miss), the tier-1 index is loaded and a few requests are resolved that validation refuses
before any service runs. After a restore: everything copies of one snapshot would otherwise
share is renewed (``wiring.Container.after_restore`` and the random state). The hooks come
from ``snapshot_restore_py``, which the Lambda runtime provides (3.12+); where it is absent
nothing is registered. docs/cold-start.md has the reasoning and the figures.
"""

from __future__ import annotations

import random
from typing import Any

# What a function's first request uses (wiring.Container attributes); a miss's parts too,
# since importing them before the snapshot costs no cold start anything.
PRIMED_PARTS = {
    "search": ("search_service", "spotify", "musicbrainz", "model_client"),
    "album": ("album_service", "spotify", "model_client"),
}
# DeadlineClients (wiring.Container attributes) whose botocore client is built before the snapshot:
# the one cache reads, budgets and leases send through, so a restored copy's first DynamoDB call
# only opens a connection (building the client took 40-80 ms of the first answer after restore).
PRIMED_CLIENTS = ("dynamodb_client",)
# Requests the validation refuses before any service runs: route matching, validation and the
# error envelope are exercised once without touching the cache or Spotify.
PRIMING_REQUESTS = {
    "search": (("/health", None), ("/search", {"q": ""}), ("/suggest", {"q": ""})),
    "album": (("/albums/not-an-id", None),),
}


def install(function: str, app: Any) -> bool:
    """Register the hooks for ``function`` (its resolver ``app``); False where the runtime lacks them."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot, function, app)
    register_after_restore(after_restore)
    return True


def before_snapshot(function: str, app: Any) -> None:
    from musicboxd.wiring import container

    parts = container()
    for name in PRIMED_PARTS[function]:
        getattr(parts, name)
    for name in PRIMED_CLIENTS:
        getattr(parts, name).client()
    if function == "search":
        parts.tier1.index()  # one BatchGetItem now instead of on the first search of every copy
    for path, query in PRIMING_REQUESTS[function]:
        app.resolve(priming_event(path, query), None)


def after_restore() -> None:
    from musicboxd.wiring import container

    random.seed()  # from os.urandom: copies must not draw the same jitter (retries, sampling)
    container().after_restore()


def priming_event(path: str, query: dict[str, str] | None) -> dict[str, Any]:
    """A minimal API Gateway REST proxy event for a GET."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "requestContext": {"requestId": "snapstart-priming", "stage": "snapstart", "httpMethod": "GET", "path": path},
        "body": None,
        "isBase64Encoded": False,
    }
