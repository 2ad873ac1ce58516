"""The operator's check (make tier1-check): share and agreement per shape from tier 1 vs Spotify."""

from __future__ import annotations

from musicboxd.models import AlbumSummary, ArtistRef, SearchPage
from tools.tier1_check import check, main, report


def page(*ids: str) -> SearchPage:
    return SearchPage(
        items=[AlbumSummary(id=i, name=i, artists=[ArtistRef(id="a", name="A")], artist_name="A") for i in ids],
        total=len(ids),
    )


SPOTIFY = {"love": page("a", "b", "c"), "blue": page("x", "y"), "horizon": page("h1", "h2"), "zzz": page("q")}
TIER1 = {"love": ("title", page("a", "b", "c")), "blue": ("title", page("y", "x")),
         "horizon": ("artist", page("h1", "h2")), "zzz": ("partial", None)}  # fmt: skip


def test_check_counts_share_and_agreement_per_shape_and_lists_what_differs():
    calls: list[str] = []

    def spotify(query: str) -> SearchPage:
        calls.append(query)
        return SPOTIFY[query]

    result = check(TIER1, lambda q: TIER1[q], spotify)
    assert (result["queries"], result["answered"], result["agreed"]) == (4, 3, 2)
    assert result["tier1_share"] == 0.75 and result["agreement"] == 2 / 3 and result["service_agreement"] == 0.75
    assert result["by_shape"]["title"] == {"queries": 2, "answered": 2, "agreed": 1, "tier1_share": 1.0,
                                           "agreement": 0.5, "service_agreement": 0.5}  # fmt: skip
    assert result["by_shape"]["partial"]["answered"] == 0 and result["by_shape"]["partial"]["agreement"] is None
    assert result["disagreements"] == [{"query": "blue", "shape": "title", "tier1": ["y", "x"], "spotify": ["x", "y"]}]
    assert sorted(calls) == ["blue", "horizon", "love"]  # Spotify asked only where tier 1 answered
    text = report(result)
    assert "title" in text and "50.0%" in text and "differs: 'blue'" in text


def test_fail_below_exits_non_zero(monkeypatch):
    import tools.tier1_check as module

    monkeypatch.setattr(module, "_offline", lambda n, seed: (list(TIER1), lambda q: TIER1[q], SPOTIFY.__getitem__))
    assert main(["--offline", "--n", "4"]) == 0
    assert main(["--offline", "--n", "4", "--fail-below", "0.9"]) == 1
