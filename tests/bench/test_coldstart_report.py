"""bench.coldstart's report: its own BENCHMARKS.md section, PASS/FAIL against the naive set."""

from bench.coldstart import MARKERS, goals, section, splice


def figures(search_ratio: float) -> dict:
    row = {"import_ms": 100.0, "first_ms": 20.0, "total_ms": 120.0, "statuses": ["200 HIT"]}
    restore = {"restore_to_answer_ms": 9.0, "after_restore_hooks_ms": 0.5, "before_snapshot_ms": 900.0,
               "statuses": ["200 HIT"], "copies": 4}  # fmt: skip
    index = {"albums": 18000, "format4": {"bytes": 2_000_000, "load_ms": 100.0},
             "format3_json": {"bytes": 1_400_000, "load_ms": 300.0}}  # fmt: skip
    return {
        "python": "3.13.0", "repeats": 7,
        "first_request": {"search": row, "album": row, "naive": row},
        "restore": {"search": restore, "album": restore},
        "index": {"18000": index},
        "ratio_vs_naive": {"search import + first hit": search_ratio, "album import + first hit": 0.4},
    }  # fmt: skip


def test_goal_passes_only_at_half_the_naive_set_or_less():
    assert [ok for _, ok, _ in goals(figures(0.5))] == [True, True]
    assert [ok for _, ok, _ in goals(figures(0.51))] == [False, True]
    assert "- FAIL search import + first hit <= 0.5x naive: 0.51x" in section(figures(0.51))


def test_splice_replaces_only_its_own_section():
    document = "# Benchmarks\n\nother figures\n"
    once = splice(document, section(figures(0.3)))
    assert once.startswith(document.rstrip("\n")) and once.count(MARKERS[0]) == 1
    twice = splice(once + "\ntrailing notes\n", section(figures(0.9)))
    assert twice.count(MARKERS[0]) == 1 and "0.90x" in twice and "0.30x" not in twice
    assert twice.startswith(document.rstrip("\n")) and twice.endswith("trailing notes\n")
