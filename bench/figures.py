"""From per-request records to the figures, the goals and their PASS/FAIL lines."""

from __future__ import annotations

from statistics import fmean

from bench.harness import Record, pct


def _lat(records: list[Record]) -> dict:
    xs = [r.seconds for r in records]
    return {"n": len(xs), "p50_ms": pct(xs, 50), "p95_ms": pct(xs, 95), "p99_ms": pct(xs, 99)}


def _share(num: int, den: int) -> float | None:
    return num / den if den else None


def strategy_figures(records: list[Record]) -> dict:
    seen: set[tuple[str, str]] = set()
    first: dict[int, bool] = {}
    for r in records:
        first[r.i] = (r.kind, r.value) not in seen
        seen.add((r.kind, r.value))
    warm = [r for r in records if r.phase == "warmup"]
    steady = [r for r in records if r.phase == "steady"]
    hits = [r for r in steady if r.hit]
    misses = [r for r in steady if not r.hit]
    searches = [r for r in steady if r.kind == "search" and r.status == 200]
    return {
        "warmup": {"requests": len(warm), "spotify_calls": sum(r.spotify_calls for r in warm),
                   "hit_rate": _share(sum(r.hit for r in warm), len(warm))},
        "steady": {
            "requests": len(steady),
            "spotify_calls": sum(r.spotify_calls for r in steady),
            "hit_rate": _share(len(hits), len(steady)),
            "search_hit_rate": _share(sum(r.hit for r in searches), len(searches)),
            "album_hit_rate": _share(sum(r.hit for r in steady if r.kind == "album"),
                                     sum(r.kind == "album" for r in steady)),
            "top5_agreement": _share(sum(r.agrees for r in searches), len(searches)),
            "top5_agreement_by_source": {
                src: {"searches": sum(r.source == src for r in searches),
                      "agree": sum(r.source == src and r.agrees for r in searches)}
                for src in sorted({r.source for r in searches})
            },  # fmt: skip
            "searches": len(searches),
            "dynamo_per_hit_mean": fmean(r.dynamo_calls + r.modelled_dynamo for r in hits) if hits else None,
            "dynamo_per_hit_max": max((r.dynamo_calls + r.modelled_dynamo for r in hits), default=None),
            "dynamo_per_hit_modelled": any(r.modelled_dynamo for r in hits),
            "hits_without_dynamo": sum(r.dynamo_calls + r.modelled_dynamo == 0 for r in hits),  # in-memory L1
            "hits": _lat(hits),
            "misses": _lat(misses),
            "all": _lat(steady),
            # no exact-key cache can answer a request the run has not seen before
            "first_seen_share": _share(sum(first[r.i] for r in steady), len(steady)),
            "misses_on_repeats": sum(1 for r in misses if not first[r.i]),
            "disagreements": [
                {"query": r.value, "variant": r.variant, "source": r.source,
                 "ours": r.top5, "spotify": r.reference_top5}  # fmt: skip
                for r in searches if not r.agrees
            ][:10],
            "sources": _count(r.source for r in steady),
            "errors": sum(r.status != 200 for r in steady),
        },
    }  # fmt: skip


def _count(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def tier1_figures(records: list[Record], cold: list[Record] | None = None) -> dict:
    """Tier-1's share: of every distinct steady search with the query cache emptied (``cold``), and of
    the steady searches the exact-query cache could not answer in the normal run."""
    reached = [r for r in records if r.phase == "steady" and r.kind == "search" and r.status == 200
               and r.source != "cache"]  # fmt: skip
    popular = [r for r in reached if r.source == "popular"]
    spotify_misses = [r for r in records if r.phase == "steady" and r.kind == "search" and r.source == "spotify"]
    cold = [r for r in cold or [] if r.status == 200]
    answered = [r for r in cold if r.source == "popular"]
    warm = {r.value for r in records if r.phase == "warmup" and r.kind == "search"}
    groups = {"asked in the warm-up": [r for r in cold if r.value in warm],
              "never asked before": [r for r in cold if r.value not in warm]}  # fmt: skip
    return {
        "cold_searches": len(cold),
        "answered": len(answered),
        "share": _share(len(answered), len(cold)),
        "top5_agreement": _share(sum(r.agrees for r in answered), len(answered)),
        "by_variant": {
            v: {"searches": sum(r.variant == v for r in cold), "answered": sum(r.variant == v for r in answered),
                "agree": sum(r.variant == v and r.agrees for r in answered)}
            for v in sorted({r.variant for r in cold})
        },
        "by_history": {
            k: {"searches": len(g), "answered": sum(r.source == "popular" for r in g),
                "agree": sum(r.source == "popular" and r.agrees for r in g)}
            for k, g in groups.items()
        },
        "steady_misses_reaching_tier1": len(reached),
        "steady_misses_answered": len(popular),
        "steady_misses_agreement": _share(sum(r.agrees for r in popular), len(popular)),
        "answer_latency": _lat(answered),
        "spotify_search_miss": _lat(spotify_misses),
    }  # fmt: skip


def mode_figures(results: dict) -> dict:
    from bench.cost import cost_figures

    out = {s: strategy_figures(res["records"]) for s, res in results.items()}
    for strategy, cost in cost_figures(results).items():
        out[strategy]["cost"] = cost
    base = out.get("pass-through", {}).get("steady", {})
    seed = out.get("seed", {}).get("steady", {})
    for fig in out.values():
        st = fig["steady"]
        base_calls = base.get("spotify_calls")
        st["saved_vs_pass_through"] = 1 - st["spotify_calls"] / base_calls if base_calls else None
        st["calls_vs_seed"] = st["spotify_calls"] / seed["spotify_calls"] if seed.get("spotify_calls") else None
        for part in ("hits", "misses"):
            p95, ref = st[part]["p95_ms"], base.get("all", {}).get("p95_ms")
            st[part]["p95_vs_pass_through"] = p95 / ref if p95 and ref else None
    if "ours" in results:
        ours = results["ours"]
        out["ours"]["tier1"] = tier1_figures(ours["records"], ours.get("tier1_cold"))
        if ours.get("tier1_cold_without_sweep"):
            out["ours"]["tier1_without_sweep"] = tier1_figures(ours["records"], ours["tier1_cold_without_sweep"])
        out["ours"]["suggest"] = ours.get("suggest")
        out["ours"]["populate"] = ours.get("populate")
    return out


# -- goals


def _goal(name: str, value, ok, shown: str) -> dict:
    return {"goal": name, "value": value, "pass": bool(ok) if value is not None else False, "shown": shown}


def _ratio_goal(name: str, value, ok, shown: str) -> dict:
    """A goal whose value may be missing (no traffic of that kind in the run): then "n/a", FAIL."""
    return _goal(name, value, value is not None and ok(value), shown if value is not None else "n/a")


def _percent_at_least(name: str, value, threshold: float) -> dict:
    return _ratio_goal(name, value, lambda v: v >= threshold, f"{value:.1%}" if value is not None else "")


def goals(mode: str, figs: dict, static: dict) -> list[dict]:
    from bench.cost import cost_goals

    if "ours" not in figs:
        return []
    ours = figs["ours"]["steady"]
    out = cost_goals(mode, {s: f["cost"] for s, f in figs.items() if "cost" in f})
    saved, vs_seed = ours.get("saved_vs_pass_through"), ours.get("calls_vs_seed")
    out.append(_percent_at_least(f"[{mode}] >= 97 % fewer Spotify calls than pass-through (steady)", saved, 0.97))
    out.append(
        _ratio_goal(
            f"[{mode}] <= 0.5x the seed strategy's Spotify calls (steady)",
            vs_seed,
            lambda v: v <= 0.5,
            f"{vs_seed:.2f}x" if vs_seed is not None else "",
        )
    )
    out.append(_percent_at_least(f"[{mode}] top-5 agreement with Spotify >= 99 %", ours.get("top5_agreement"), 0.99))
    dmax, dmean = ours.get("dynamo_per_hit_max"), ours.get("dynamo_per_hit_mean")
    l1 = ours.get("hits_without_dynamo", 0)
    out.append(_ratio_goal(f"[{mode}] 1 DynamoDB round trip per hit", dmax, lambda v: v <= 1,
                           f"mean {dmean:.2f}, max {dmax} ({l1} of {ours['hits']['n']} hits from the in-memory L1)"
                           if dmax is not None else ""))  # fmt: skip
    hit95, miss95 = ours["hits"]["p95_ms"], ours["misses"]["p95_ms"]
    ratio = hit95 / miss95 if hit95 and miss95 else None
    out.append(
        _ratio_goal(
            f"[{mode}] hit p95 <= 1/10 of miss p95",
            ratio,
            lambda v: v <= 0.1,
            f"{hit95:.1f} ms / {miss95:.1f} ms = 1/{1 / ratio:.1f}" if ratio else "",
        )
    )
    t1 = figs["ours"].get("tier1") or {}
    without_sweep = figs["ours"].get("tier1_without_sweep") or {}
    share_goal = "tier-1 share of searches (cold query cache, warm popular tier) >= 65 %"
    out.append(_percent_at_least(f"[{mode}] {share_goal}, with the popularity sweep", t1.get("share"), 0.65))
    out.append(  # what ships: POPULATE_SWEEP is off unless a stage turns it on (docs/compliance.md)
        _percent_at_least(f"[{mode}] {share_goal}, as shipped (no sweep)", without_sweep.get("share"), 0.65)
    )
    out.append(_percent_at_least(f"[{mode}] tier-1 top-5 agreement >= 90 %", t1.get("top5_agreement"), 0.90))
    sug = (figs["ours"].get("suggest") or {}).get("p95_ms")
    miss = t1.get("spotify_search_miss", {}).get("p95_ms")
    if not miss or t1.get("spotify_search_miss", {}).get("n", 0) < 20:  # too few of ours: the pass-through's
        miss = figs["pass-through"]["steady"]["all"]["p95_ms"] if "pass-through" in figs else miss
    sr = sug / miss if sug and miss else None
    out.append(
        _ratio_goal(
            f"[{mode}] suggest p95 <= 1/20 of a Spotify miss p95",
            sr,
            lambda v: v <= 0.05,
            f"{sug:.1f} ms / {miss:.1f} ms = 1/{1 / sr:.0f}" if sr else "",
        )
    )
    return out


def static_goals(static: dict) -> list[dict]:
    out = []
    imp = static.get("imports")
    if imp:
        worst = max(imp["ratio_vs_naive"].values())
        med = imp["median_ms"]
        out.append(_goal("handler import <= 0.5x naive (boto3 + pynamodb.models + httpx + powertools)", worst,
                         worst <= 0.5, f"search {med['search']:.0f} ms, album {med['album']:.0f} ms vs naive "
                         f"{med['naive']:.0f} ms = {worst:.2f}x"))  # fmt: skip
    layer = static.get("layer")
    if layer and layer.get("measured"):
        out.append(_goal("layer <= 20 MB unzipped", layer["mb"], layer["mb"] <= 20, f"{layer['mb']:.1f} MB"))
    elif layer:
        out.append(_goal("layer <= 20 MB unzipped", None, False, f"not measured: {layer.get('reason')}"))
    return out


def goal_line(g: dict) -> str:
    return f"{'PASS' if g['pass'] else 'FAIL'}  {g['goal']}: {g['shown']}"
