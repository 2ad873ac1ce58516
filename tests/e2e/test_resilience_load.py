"""Load: 50 concurrent HTTP clients for a bounded time on the local API (loopback only).

45 "regulars" browse a pool of searches and album pages (warmed first): every answer must be
a 200. 5 "explorers" fire distinct uncached searches to push Spotify demand far past the
budget: they must get documented answers (200 from spotify/musicbrainz/cache-only, or the 503
envelope with Retry-After), never anything else. The emulator enforces the same rolling
window as Spotify (it would answer 429): its counters must show the budget was never exceeded.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import Counter

import httpx
import pytest

pytest.importorskip("tools.emulator.server", reason="needs the Spotify emulator (tools/emulator)")

from tests.e2e.resilience_stack import record_figures, resilience_stack  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

LIMIT = 60  # Spotify calls per 30 s window for this test (small enough to matter)
CLIENTS, EXPLORERS = 50, 5
SECONDS = 20.0


def test_fifty_clients_zero_errors_and_the_budget_holds():
    # the 50 clients share one loopback address: one caller for the per-client share, which has its
    # own run (make bench-abuse); here the whole budget is theirs
    # and up to 4 instances per function serve them, as Lambda scales out (the service is measured, not a queue)
    with resilience_stack(
        lambda_instances=4, SPOTIFY_RATE_LIMIT=str(LIMIT), SPOTIFY_CLIENT_SHARE="1", POPULATE_ON_START="false"
    ) as st:
        st.config(rate_limit=LIMIT)  # the emulator 429s past the window, like Spotify
        st.get("/search", q="warm up")
        sample = st.sample(40, seed=11)["albums"]
        queries = list(dict.fromkeys(a["name"] for a in sample))[:20]
        albums = [a["id"] for a in sample if a["total_tracks"] <= 50][:10]
        for q in queries:
            assert st.get("/search", q=q, limit=10)[0].status_code == 200  # one Spotify page
        for album in albums:
            assert st.get(f"/albums/{album}")[0].status_code == 200
        warm_calls = st.spotify_calls()
        assert warm_calls <= 40  # leaves the explorers ~20 calls to exhaust

        stop_at = time.monotonic() + SECONDS
        lock = threading.Lock()
        statuses: Counter[str] = Counter()
        sources: Counter[str] = Counter()
        errors: list[str] = []
        latencies: list[float] = []

        def client(n: int) -> None:
            rng = random.Random(n)
            explorer = n < EXPLORERS
            with httpx.Client(base_url=st.api, timeout=15) as http:
                i = 0
                while time.monotonic() < stop_at:
                    i += 1
                    if explorer:
                        path, params = "/search", {"q": f"explore {n} {i} {rng.choice(queries)}", "limit": 10}
                    elif rng.random() < 0.7:
                        path, params = "/search", {"q": rng.choice(queries), "limit": 10}
                    else:
                        path, params = f"/albums/{rng.choice(albums)}", None
                    started = time.perf_counter()
                    try:
                        response = http.get(path, params=params)
                    except httpx.HTTPError as exc:
                        with lock:
                            errors.append(f"{path}: {type(exc).__name__}")
                        continue
                    elapsed = time.perf_counter() - started
                    ok = response.status_code == 200 or (
                        explorer
                        and response.status_code == 503
                        and response.headers.get("Retry-After", "").isdigit()
                        and response.json()["error"]["status"] == 503
                    )
                    with lock:
                        latencies.append(elapsed)
                        statuses[str(response.status_code)] += 1
                        if response.status_code == 200:
                            sources[response.json()["source"]] += 1
                        if not ok:
                            errors.append(f"{path} {params}: {response.status_code} {response.text[:200]}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        stats = st.stats()
        throttled = sum(v.get("429", 0) for v in stats["by_endpoint"].values())
        latencies.sort()
        figures = {
            "clients": CLIENTS,
            "seconds": SECONDS,
            "requests": len(latencies) + len(errors),
            "errors": len(errors),
            "statuses": dict(statuses),
            "sources": dict(sources),
            "spotify_calls_total": stats["total"],
            "spotify_calls_during_load": stats["total"] - warm_calls,
            "spotify_budget_per_window": LIMIT,
            "spotify_429": throttled,
            "musicbrainz_calls": stats["musicbrainz"],
            "latency_p50_ms": round(statistics.median(latencies) * 1000, 1),
            "latency_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
            "latency_max_ms": round(latencies[-1] * 1000, 1),
        }
        record_figures("load", figures)
        assert not errors, errors[:10]
        assert stats["total"] <= LIMIT  # the whole run fits in one 30 s window
        assert throttled == 0
        assert figures["requests"] > 1000
