"""Populate sources are units: one module with a frozen state plus its registration."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

import pytest

from musicboxd.config import Settings
from musicboxd.services.populate import registry
from musicboxd.services.populate.source import SourceRun
from musicboxd.services.populate.state import RunState
from tests.job_fakes import album_id
from tests.unit.test_populate_service import Rig


@dataclass(frozen=True)
class ToyState:
    page: int = 0


class ToySource:
    """A toy source: pages of three album ids from a fake search, one call each."""

    state_type = ToyState

    def start(self, run: SourceRun[ToyState]) -> ToyState:
        return ToyState()

    def collect(self, run: SourceRun[ToyState], state: ToyState) -> None:
        while state.page < 4 and not run.full():
            run.check()
            data = run.catalog.search_raw("toy", limit=3, offset=3 * state.page)
            for raw in data["albums"]["items"]:
                run.add_raw(raw)
            state = replace(state, page=state.page + 1)
            run.page_read(state)


@pytest.fixture
def toy_registered(monkeypatch):
    """Registering a source is one entry in registry.SOURCES (here for the test's duration)."""
    monkeypatch.setitem(registry.SOURCES, "toy", ToySource())


def test_a_new_source_is_one_module_plus_its_registration(toy_registered):
    assert Settings.from_env({"POPULATE_SOURCES": "toy,demand"}).populate_sources == ("toy", "demand")
    rig = Rig(extended=False, new_releases=0, search={"toy": list(range(700, 712))})
    # a budget of 3 calls: two toy pages, then the run stops with the toy's state checkpointed
    first = rig.run(sources=("toy",), budget=3)
    saved = rig.checkpoints.states["populate"]
    json.dumps(saved)
    assert first.status == "stopped" and first.reason == "budget"
    assert saved["positions"]["toy"] == {"page": 3} and "toy" not in saved["collected"]
    second = rig.run(sources=("toy",), budget=1000)
    assert second.status == "done" and second.resumed
    searched = [call[3] for call in rig.spotify.calls if call[0] == "search"]
    assert searched == [0, 3, 6, 9]  # resumed at the saved page, never re-read one
    assert {album_id(n) for n in range(700, 712)} <= set(rig.store.items)
    assert {item["source"] for item in rig.store.items.values()} == {"toy"}


def test_an_unregistered_source_is_refused_by_settings_and_by_the_service():
    with pytest.raises(ValueError, match="POPULATE_SOURCES"):
        Settings.from_env({"POPULATE_SOURCES": "toy"})
    rig = Rig(extended=False)
    with pytest.raises(ValueError, match="unknown populate sources"):
        rig.run(sources=("new_releases", "charts"))
    assert rig.spotify.calls == [] and "populate" not in rig.checkpoints.states


def test_a_demand_query_spotify_rejects_is_skipped_and_the_run_goes_on():
    rig = Rig(extended=False, new_releases=0, search={"björk": [200, 201], "ok": [300]})
    rig.demand.counts = {"Q#björk": 9, "Q#a:b:c": 5, "Q#ok": 1}
    rig.spotify.rejected = {"a:b:c"}
    report = rig.run(sources=("demand",))
    assert report.status == "done"
    assert {album_id(200), album_id(201), album_id(300)} <= set(rig.store.items)
    assert "demand query failed; skipped" in rig.logs


def test_a_checkpoint_of_the_older_layout_starts_a_new_run_from_its_completion():
    rig = Rig(extended=False, new_releases=5)
    old = {
        "status": "stopped",
        "started_at": 10.0,
        "completed_at": None,
        "pos": {},
        "candidates": [["x", "demand", None]],
    }
    rig.checkpoints.states["populate"] = old
    assert RunState.from_checkpoint(old).status == "done"
    report = rig.run()
    assert report.status == "done" and not report.resumed and report.candidates == 5
