"""The populate run's checkpoint as types (frozen where a source owns it) and its JSON form."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

CHECKPOINT_VERSION = 2
StateT = TypeVar("StateT")


@dataclass(frozen=True)
class Candidate:
    """An album some source brought (the first source wins), with its track count when known."""

    album_id: str
    source: str
    total_tracks: int | None = None


@dataclass
class RunState:
    """The run's ledger, updated in place by the orchestrator and saved as the checkpoint.

    ``positions`` holds each source's own frozen state (as its JSON form), ``sweep`` the sweep's.
    """

    run_id: str
    started_at: float
    since: float  # demand counters are read from this day on
    status: str = "running"  # running | stopped | done
    stop_reason: str | None = None
    not_before: float | None = None  # after a 429: no run before Spotify's Retry-After
    completed_at: float | None = None
    collected: list[str] = field(default_factory=list)  # sources finished this run
    positions: dict[str, dict[str, Any]] = field(default_factory=dict)
    candidates: list[Candidate] = field(default_factory=list)
    sourced: dict[str, int] = field(default_factory=dict)  # candidates per source
    next: int = 0  # candidates before this index are fetched (or skipped fresh)
    calls: int = 0
    cached: int = 0
    skipped_fresh: int = 0
    missing: int = 0
    failed: int = 0
    by_source: dict[str, int] = field(default_factory=dict)  # albums cached per source
    resumes: int = 0
    sweep: dict[str, Any] | None = None  # SweepState's JSON form

    @classmethod
    def new(cls, now: float, since: float) -> RunState:
        return cls(run_id=uuid.uuid4().hex[:12], started_at=now, since=since)

    def to_checkpoint(self) -> dict[str, Any]:
        return {"version": CHECKPOINT_VERSION, **asdict(self)}

    @classmethod
    def from_checkpoint(cls, data: dict[str, Any]) -> RunState:
        """A checkpoint read back; one of an older layout counts as a finished run (a new run starts)."""
        if data.get("version") != CHECKPOINT_VERSION:
            return cls(
                run_id=str(data.get("run_id", "")),
                started_at=float(data.get("started_at") or 0),
                since=float(data.get("since") or 0),
                status="done",
                completed_at=data.get("completed_at"),
                not_before=data.get("not_before"),
            )
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        values["candidates"] = [Candidate(**candidate) for candidate in data.get("candidates", [])]
        return cls(**values)


def thaw(state_type: type[StateT], data: dict[str, Any]) -> StateT:
    """A flat frozen dataclass from its JSON form (JSON lists back to tuples)."""
    names = {f.name for f in fields(state_type)}  # type: ignore[arg-type]
    return state_type(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names})


def freeze(state: Any) -> dict[str, Any]:
    """A frozen dataclass state as JSON-ready data."""
    return asdict(state)
