"""The drift run's figures and its BENCHMARKS.md section (the simulation itself runs in make bench)."""

from __future__ import annotations

from bench.drift import END, START, DriftRun, Outcome, figures, write_section

COLD = {"queries": 10, "tier1_share": 0.5, "tier1_agreement": 1.0, "service_agreement": 1.0, "reordered": 0,
        "unseen": 0, "by_shape": {"title": {"queries": 10, "tier1_share": 0.5, "tier1_agreement": 1.0}}}  # fmt: skip


def test_recovery_is_the_point_after_which_the_rolling_agreement_never_falls_below_99_percent():
    before = [Outcome("title", "tier1", True, False)] * 100
    dip = [Outcome("title", "tier1", False, True)] * 5 + [Outcome("title", "cache", True, True)] * 100
    relapse = [Outcome("title", "tier1", False, True)] + [Outcome("title", "cache", True, True)] * 200
    run = DriftRun(outcomes=before + dip + relapse, verify_calls=[3, 7], checks=[(100, "title", False)] * 4,
                   changes=[(103, "title", "suppressed")],
                   cold={"before_drift": COLD, "after_drift": {**COLD, "by_shape": {"title": {
                       "queries": 10, "tier1_share": 0.0, "tier1_agreement": None}}}})  # fmt: skip
    fig = figures(run, rolling=50, background_calls=10)
    assert fig["recovered_after_searches"] == 105 + 1 + 50 - 1  # the relapse resets it
    assert fig["detected_after_checks"] == 4 and fig["first_change"] == [103, "title", "suppressed"]
    assert fig["shapes_with_lower_share"] == ["title"]
    assert fig["verify_calls_max_per_run"] == 7 and fig["verify_calls_total"] == 10


def test_the_section_replaces_itself_and_leaves_the_rest_of_the_file(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nfigures\n")
    write_section(f"{START}\nfirst\n{END}\n", path)
    write_section(f"{START}\nsecond\n{END}\n", path)
    text = path.read_text()
    assert text.startswith("# Benchmarks\n\nfigures\n") and "second" in text and "first" not in text
    assert text.count(START) == 1
