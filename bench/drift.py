"""Tier 1 under ranking drift: shadow verification and calibration, in-process (``make bench-drift``).

``python -m bench.drift [--write]`` builds the tier-1 index as populate would after the bench's
warm-up (``tools.tier1_bench.build``), then plays the searches of a long Zipf stream in the search
service's order: the exact-query cache (filled by the warm-up, then by every Spotify answer),
the real ``CalibratedTier1``, the emulator (Spotify). Every ``drain_every`` searches the verify
job (``ShadowVerifier``) drains the sampled checks with a call budget of its own, as the scheduled
run does. Half-way through, the emulator's ranking drifts (popularity reshuffled by seeded noise,
``tools/emulator/search.py``), which the index does not model. At the end of each half every
distinct query of it is asked again with the query cache emptied: tier 1's cold-cache share.

Service-wide agreement: the share of searches whose first five ids equal the emulator's current
first five (Spotify's answers agree by definition, a cached page is Spotify's answer when it was
cached). ``--write`` puts the section (with its PASS/FAIL lines) into BENCHMARKS.md between
markers, leaving the rest of the file alone; ``make bench`` runs it after ``python -m bench``.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from musicboxd.models import SearchPage
from musicboxd.normalize import normalize_query
from musicboxd.ports import CachedSearch, PendingCheck
from musicboxd.services.call_counter import CallCounter
from musicboxd.services.catalog import search_key
from musicboxd.services.verification import (
    AGREED,
    ORDER,
    TOP,
    UNSEEN,
    CalibratedTier1,
    CalibrationPolicy,
    CalibrationView,
    ShadowVerifier,
    outcome,
    query_shape,
)

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- drift:start -->", "<!-- drift:end -->"
DEFAULTS: dict[str, Any] = {
    "seed": 2026,
    "requests": 12_000,  # workload requests after the warm-up (~60 % of them searches)
    "drift": 8.0,  # popularity noise in points (0-100 scale): a clear reshuffle of Spotify's order
    "rate": 0.25,  # TIER1_VERIFY_RATE in the bench (production default 0.05, for far more traffic)
    "drain_every": 100,  # searches between two verify runs (one scheduled run)
    "batch": 50,  # TIER1_VERIFY_BATCH: checks per run at most
    "rolling": 300,  # searches in the rolling service-wide agreement
    "request_seconds": 1.0,  # nominal time per search: sets the background share per run
    "rate_limit": 150,  # SPOTIFY_RATE_LIMIT per 30 s window
    "background_fraction": 0.5,  # SPOTIFY_BACKGROUND_FRACTION
    "target": 0.99,  # TIER1_AGREEMENT_TARGET
    "floor": 0.90,  # TIER1_AGREEMENT_FLOOR
    "samples": 20,  # TIER1_CALIBRATION_SAMPLES
}


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


class MemoryCache:
    """The search cache (AlbumCache's search half) in memory."""

    def __init__(self, clock: Clock):
        self._clock = clock
        self.pages: dict[str, CachedSearch] = {}

    def get_search(self, key: str) -> CachedSearch | None:
        return self.pages.get(key)

    def put_search(self, key: str, page: SearchPage, *, ttl_seconds: int) -> None:
        self.pages[key] = CachedSearch(page, self._clock() + ttl_seconds)


class MemoryQueue:
    def __init__(self) -> None:
        self.items: dict[str, PendingCheck] = {}
        self._n = 0

    def put(self, checks: list[PendingCheck]) -> None:
        for check in checks:
            self._n += 1
            self.items[f"{self._n:09d}"] = check

    def take(self, max_items: int) -> list[tuple[str, PendingCheck]]:
        return sorted(self.items.items())[:max_items]

    def done(self, keys: list[str]) -> None:
        for key in keys:
            self.items.pop(key, None)


class MemoryState:
    def __init__(self) -> None:
        self.saved: dict[str, dict] = {}

    def load(self, name: str) -> dict | None:
        return self.saved.get(name)

    def save(self, name: str, state: dict) -> None:
        self.saved[name] = state


@dataclass
class Outcome:
    shape: str
    source: str  # cache | tier1 | spotify
    agreed: bool
    drift: bool

    @property
    def tier1(self) -> bool:
        return self.source == "tier1"


@dataclass
class DriftRun:
    outcomes: list[Outcome] = field(default_factory=list)
    verify_calls: list[int] = field(default_factory=list)  # Spotify calls per verify run
    checks: list[tuple[int, str, bool]] = field(default_factory=list)  # (search no., shape, agreed)
    changes: list[tuple[int, str, str]] = field(default_factory=list)  # (search no., shape, change)
    cold: dict[str, dict[str, Any]] = field(default_factory=dict)  # phase -> cold-cache figures


def _top(page: SearchPage) -> list[str]:
    return [a.id for a in page.items[:TOP]]


def cold_cache(index, calibration: CalibrationView, spotify, queries: list[str]) -> dict[str, Any]:
    """Every distinct query asked with the query cache emptied: tier 1 (as calibrated now) or Spotify."""
    probe = CalibratedTier1(lambda: index, calibration, MemoryQueue(), rate=0.0)
    asked: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for query in queries:
        shape, page = probe.assess(query, limit=10, offset=0)
        shape = shape or query_shape(query, [])
        asked[shape] += 1
        if page is not None:
            answered[shape] += 1
            result = outcome([a.id for a in page.items], _top(spotify.search_albums(query, limit=10, offset=0)))
            outcomes[result] += 1
            agreed[shape] += result == AGREED
    total, hits, good = sum(asked.values()), sum(answered.values()), sum(agreed.values())
    return {
        "queries": total,
        "reordered": outcomes[ORDER],
        "unseen": outcomes[UNSEEN],
        "tier1_share": _share(hits, total),
        "tier1_agreement": _share(good, hits),
        "service_agreement": _share(total - hits + good, total),
        "by_shape": {s: {"queries": asked[s], "tier1_share": _share(answered[s], asked[s]),
                         "tier1_agreement": _share(agreed[s], answered[s])} for s in sorted(asked)},
    }  # fmt: skip


def simulate(built, *, drift: float, rate: float, drain_every: int, batch: int, requests_seconds: float,
             background_calls: int, policy: CalibrationPolicy, seed: int) -> DriftRun:  # fmt: skip
    """The search service's order for each search: exact-query cache, calibrated tier 1, Spotify."""
    from tools.tier1_bench import TODAY, EmulatorSearch

    catalog = built.workload.catalog
    searches = [r for r in built.workload.phase("steady") if r.kind == "search"]
    drift_at = len(searches) // 2
    clock = Clock(1_800_000_000.0)
    cache, queue, state = MemoryCache(clock), MemoryQueue(), MemoryState()
    ttl = 30 * 86_400

    def key(query: str, limit: int = 10) -> str:
        return search_key("US", query, offset=0, limit=limit)

    for query, page in built.searched.items():  # the warm-up filled the query cache
        cache.put_search(key(normalize_query(query)), page, ttl_seconds=ttl)
    spotify = EmulatorSearch(catalog, TODAY, CallCounter())
    view = CalibrationView(state, policy, recheck_seconds=0, clock=clock)
    tier1 = CalibratedTier1(lambda: built.index, view, queue, rate=rate, rng=random.Random(seed).random, clock=clock)
    probe = CalibratedTier1(lambda: built.index, view, MemoryQueue(), rate=0.0)
    run = DriftRun()
    for n, request in enumerate(searches):
        if n == drift_at:
            phase_queries = list(dict.fromkeys(normalize_query(r.value) for r in searches[:drift_at]))
            run.cold["before_drift"] = cold_cache(built.index, view, spotify, phase_queries)
            spotify.drift, spotify.drift_seed = drift, seed
        clock.now += requests_seconds
        query = normalize_query(request.value)
        cached = cache.get_search(key(query))
        if cached is not None and cached.fresh(clock()):
            source, agreed = "cache", True  # Spotify's own page (its staleness is the TTL's business)
        else:
            shape, page = tier1.assess(query, limit=10, offset=0)
            truth = spotify.search_albums(query, limit=10, offset=0)
            if page is None:  # the search service asks Spotify and caches its page
                cache.put_search(key(query), truth, ttl_seconds=ttl)
                source, agreed = "spotify", True
            else:
                source, agreed = "tier1", _top(page) == _top(truth)
        if source == "cache":
            shape, _ = probe.assess(query, limit=10, offset=0)  # the shape tier 1 would have seen
        run.outcomes.append(Outcome(shape or query_shape(query, []), source, agreed, n >= drift_at))
        if (n + 1) % drain_every == 0:
            tier1.flush_checks()  # the containers' usage flushes, long done by the next verify run
            meter = CallCounter(background_calls)
            verifier = ShadowVerifier(queue, state, cache,
                                      EmulatorSearch(catalog, TODAY, meter, drift=spotify.drift,
                                                     drift_seed=spotify.drift_seed),
                                      policy, search_key=key, ttl_seconds=ttl, clock=clock)  # fmt: skip
            report, _ = verifier.run(max_checks=batch)
            run.verify_calls.append(meter.used)
            run.changes += [(n, shape, change) for shape, change in report.changes.items()]
            for shape, (checked, agreed_n) in report.by_shape.items():
                run.checks += [(n, shape, True)] * agreed_n + [(n, shape, False)] * (checked - agreed_n)
    after_queries = list(dict.fromkeys(normalize_query(r.value) for r in searches[drift_at:]))
    run.cold["after_drift"] = cold_cache(built.index, view, spotify, after_queries)
    return run


def _share(num: int, den: int) -> float | None:
    return num / den if den else None


def figures(run: DriftRun, *, rolling: int, background_calls: int) -> dict[str, Any]:
    outcomes = run.outcomes
    drift_at = next((i for i, o in enumerate(outcomes) if o.drift), len(outcomes))
    before, after = outcomes[:drift_at], outcomes[drift_at:]

    def phase(rows: list[Outcome]) -> dict[str, Any]:
        shapes = sorted({o.shape for o in rows})
        return {
            "searches": len(rows),
            "by_source": dict(Counter(o.source for o in rows)),
            "tier1_share": _share(sum(o.tier1 for o in rows), len(rows)),
            "service_agreement": _share(sum(o.agreed for o in rows), len(rows)),
            "tier1_agreement": _share(sum(o.tier1 and o.agreed for o in rows), sum(o.tier1 for o in rows)),
            "by_shape": {
                s: {"searches": sum(o.shape == s for o in rows),
                    "tier1_share": _share(sum(o.shape == s and o.tier1 for o in rows), sum(o.shape == s for o in rows)),
                    "tier1_agreement": _share(sum(o.shape == s and o.tier1 and o.agreed for o in rows),
                                              sum(o.shape == s and o.tier1 for o in rows))}
                for s in shapes
            },
        }  # fmt: skip

    # Back to >= 99 %: from some point after the drift the rolling agreement never falls below 99 % again.
    window: deque[bool] = deque(maxlen=rolling)
    recovered_at: int | None = None
    lowest = 1.0
    for i, o in enumerate(outcomes):
        window.append(o.agreed)
        if i >= drift_at and len(window) == rolling:
            share = sum(window) / rolling
            lowest = min(lowest, share)
            if share < 0.99:
                recovered_at = None
            elif recovered_at is None:
                recovered_at = i - drift_at
    first_change = next((c for c in run.changes if c[0] >= drift_at), None)
    detected_after = None
    if first_change is not None:
        detected_after = sum(
            1 for n, shape, _ in run.checks if drift_at <= n <= first_change[0] and shape == first_change[1]
        )

    def share(phase_figures: dict[str, Any], shape: str) -> float:
        return phase_figures["by_shape"].get(shape, {}).get("tier1_share") or 0.0

    cold_before, cold_after = run.cold["before_drift"], run.cold["after_drift"]
    affected = [shape for shape in cold_after["by_shape"] if share(cold_before, shape) > share(cold_after, shape)]
    return {
        "before_drift": phase(before),
        "after_drift": phase(after),
        "after_drift_late": phase(after[len(after) // 2 :]),
        "cold_before_drift": cold_before,
        "cold_after_drift": cold_after,
        "detected_after_checks": detected_after,
        "first_change": list(first_change) if first_change else None,
        "changes": [list(c) for c in run.changes],
        "recovered_after_searches": recovered_at,
        "lowest_rolling_agreement": lowest,
        "shapes_with_lower_share": affected,
        "verify_calls_total": sum(run.verify_calls),
        "verify_calls_max_per_run": max(run.verify_calls, default=0),
        "verify_runs": len(run.verify_calls),
        "background_calls_per_run": background_calls,
        "checks": len(run.checks),
    }


def goals(fig: dict[str, Any], spec: dict[str, Any], policy: CalibrationPolicy) -> list[dict[str, Any]]:
    before, cold = fig["before_drift"], fig["cold_before_drift"]
    bound_checks = policy.samples + spec["batch"]
    bound_searches = 3000
    service, share = before["service_agreement"] or 0, cold["tier1_share"] or 0
    detected, recovered = fig["detected_after_checks"], fig["recovered_after_searches"]
    return [
        {"goal": "drift: without drift, service-wide top-5 agreement >= 99 % with tier 1 answering >= 65 % "
                 "of cold-cache searches",
         "pass": service >= 0.99 and share >= 0.65,
         "shown": f"{service:.1%} of {before['searches']} searches agree; tier 1 answers {share:.1%} of "
                  f"{cold['queries']} distinct searches with a cold cache ({cold['tier1_agreement']:.1%} agreeing)"},
        {"goal": f"drift: calibration detects the drift within {bound_checks} sampled answers",
         "pass": detected is not None and detected <= bound_checks,
         "shown": "not detected" if detected is None else
                  f"{detected} checks of shape {fig['first_change'][1]} ({fig['first_change'][2]})"},
        {"goal": "drift: tier-1 share of cold-cache searches falls for the affected shapes",
         "pass": bool(fig["shapes_with_lower_share"]),
         "shown": ", ".join(
             f"{s} {fig['cold_before_drift']['by_shape'][s]['tier1_share']:.0%} -> "
             f"{fig['cold_after_drift']['by_shape'][s]['tier1_share']:.0%}" for s in fig["shapes_with_lower_share"])
             or "none"},
        {"goal": f"drift: service-wide agreement back to >= 99 % within {bound_searches} searches",
         "pass": recovered is not None and recovered <= bound_searches,
         "shown": ("not by the end of the run" if recovered is None else
                   f"from {recovered} searches after the drift on, never below again")
                  + f" (rolling {spec['rolling']} searches; lowest {fig['lowest_rolling_agreement']:.1%}; "
                    f"last half {fig['after_drift_late']['service_agreement']:.1%})"},
        {"goal": "drift: verification calls within the background share",
         "pass": fig["verify_calls_max_per_run"] <= fig["background_calls_per_run"],
         "shown": f"{fig['verify_calls_total']} calls in {fig['verify_runs']} runs, at most "
                  f"{fig['verify_calls_max_per_run']} per run vs a share of {fig['background_calls_per_run']}"},
    ]  # fmt: skip


def measure(spec: dict[str, Any] | None = None, *, log=print) -> dict[str, Any]:
    from tools.tier1_bench import build

    spec = {**DEFAULTS, **(spec or {})}
    started = time.perf_counter()
    built = build(seed=spec["seed"], warmup=2000, requests=spec["requests"])
    log(f"bench drift: index of {len(built.index)} albums built in {time.perf_counter() - started:.0f} s")
    policy = CalibrationPolicy(target=spec["target"], floor=spec["floor"], samples=spec["samples"])
    window_seconds = 30.0
    per_run_seconds = spec["drain_every"] * spec["request_seconds"]
    background = int(spec["rate_limit"] * spec["background_fraction"] * per_run_seconds / window_seconds)
    run = simulate(built, drift=spec["drift"], rate=spec["rate"], drain_every=spec["drain_every"],
                   batch=spec["batch"], requests_seconds=spec["request_seconds"], background_calls=background,
                   policy=policy, seed=spec["seed"])  # fmt: skip
    fig = figures(run, rolling=spec["rolling"], background_calls=background)
    return {"spec": spec, "policy": policy.__dict__, "figures": fig, "goals": goals(fig, spec, policy),
            "seconds": time.perf_counter() - started}  # fmt: skip


def markdown(doc: dict[str, Any]) -> str:
    from bench.figures import goal_line

    spec, fig = doc["spec"], doc["figures"]

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.1%}"

    lines = [START, "## Tier 1 under ranking drift (shadow verification + calibration)", "",
             f"`python -m bench.drift` (in-process, {doc['seconds']:.0f} s): searches of {spec['requests']:,} Zipf "
             f"requests after the warm-up through the query cache, calibrated tier 1 and the emulator; \"cold\" rows: "
             f"each distinct query of the half asked again with an empty query cache. The emulator's ranking drifts "
             f"half-way (popularity "
             f"noise {spec['drift']} points, seeded); {spec['rate']:.0%} of tier-1 answers sampled, a verify run every "
             f"{spec['drain_every']} searches (at most {spec['batch']} checks). Policy: {doc['policy']}.", "",
             "| phase | searches | tier-1 share | tier-1 agreement | service-wide agreement | share by shape |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for name in ("before_drift", "after_drift", "after_drift_late", "cold_before_drift", "cold_after_drift"):
        p = fig[name]
        shapes = ", ".join(f"{s} {pct(v['tier1_share'])}/{pct(v['tier1_agreement'])}" for s, v in p["by_shape"].items())
        lines.append(f"| {name.replace('_', ' ')} | {p.get('searches', p.get('queries'))} | {pct(p['tier1_share'])} | "
                     f"{pct(p['tier1_agreement'])} | {pct(p['service_agreement'])} | {shapes} |")  # fmt: skip
    lines += [
        "",
        "Calibration changes (search no., shape, change): "
        + (", ".join(f"{n} {s} {c}" for n, s, c in fig["changes"][:40]) or "none"),
        "",
        "```",
    ]
    lines += [goal_line(g) for g in doc["goals"]] + ["```", ""]
    cold = fig["cold_before_drift"]
    stopped = ", ".join(s for s, v in cold["by_shape"].items() if not v["tier1_share"]) or "none"
    searched = cold["by_shape"].get("searched")
    replayed = (
        "none."
        if searched is None
        else f"{searched['queries']} of the {cold['queries']} cold-cache "
        f"searches, {pct(searched['tier1_share'])} answered, {pct(searched['tier1_agreement'])} agreeing."
    )
    lines.append(
        f"Without drift, {cold['unseen']} of the {cold['unseen'] + cold['reordered']} disagreeing cold-cache tier-1 "
        f"answers hold an album tier 1 did not answer (missing from the index: the middle of the years too big to "
        f"page through), {cold['reordered']} reordered. The margin only fixes the latter; the floor stops the "
        f"shapes below it (here: {stopped}), which is what keeps the cold-cache share under 65 %. Answers that "
        f"replay Spotify's cached page for the query (shape searched): {replayed} See "
        "docs/design/tier1-verification.md (what tier 1 does not know)."
    )
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_section(text: str, path: Path) -> None:
    """Replace the drift section of BENCHMARKS.md (or append it), leaving the rest as it is."""
    current = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END) + r"\n?", re.S)
    updated = pattern.sub(lambda _: text, current) if pattern.search(current) else current.rstrip("\n") + "\n\n" + text
    path.write_text(updated)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in DEFAULTS.items():
        ap.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    ap.add_argument("--write", action="store_true", help="update the drift section of BENCHMARKS.md")
    args = ap.parse_args(argv)
    spec = {name: getattr(args, name) for name in DEFAULTS}
    doc = measure(spec, log=lambda *a: print(*a, file=sys.stderr, flush=True))
    text = markdown(doc)
    print(text)
    if args.write:
        write_section(text, ROOT / "BENCHMARKS.md")
    counts = Counter(g["pass"] for g in doc["goals"])
    print(f"{counts[True]} PASS, {counts[False]} FAIL", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
