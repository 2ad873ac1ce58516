"""What a populate source is and what it may do during a run (``SourceRun``).

A source is a module under ``sources/`` with a frozen state dataclass and a ``collect`` loop,
registered by name in ``registry.py``. The orchestrator checkpoints its state and owns the
budget, the deadline and the candidate list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from musicboxd.errors import BadUpstreamRequest, Forbidden, NotFound, Unavailable
from musicboxd.ports import DemandReader, PopulateCatalog

if TYPE_CHECKING:
    from musicboxd.services.populate.orchestrator import PopulateOptions

PAGE_EXTENDED = 50  # items per page of the endpoints without the development-mode cap of 10
MAX_OFFSET = 1000  # Spotify never pages a search past this offset
SKIPPED = (NotFound, Forbidden, Unavailable)  # a source logs these and goes on
SKIPPED_QUERY = (*SKIPPED, BadUpstreamRequest)  # a query Spotify rejects (400) is skipped too

StateT = TypeVar("StateT")


class Stop(Exception):
    """The run ends here (budget spent, deadline near, cache down); the checkpoint is saved."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class PopulateSource(Protocol[StateT]):
    """A unit of candidate collection; its state is a frozen dataclass saved in the checkpoint."""

    state_type: type[StateT]

    def start(self, run: SourceRun[StateT]) -> StateT:
        """The state of a fresh run (may read non-Spotify data, e.g. demand counters)."""
        ...

    def collect(self, run: SourceRun[StateT], state: StateT) -> None:
        """Read pages until done or ``run.full()``; call ``run.check()`` before each Spotify call."""
        ...


class RunHost(Protocol):
    """The orchestrator's side of a ``SourceRun``."""

    options: PopulateOptions
    catalog: PopulateCatalog
    demand: DemandReader | None
    since: float
    clock: Callable[[], float]
    log: Callable[[str, dict[str, Any]], None]

    def check(self, phase: str) -> None: ...

    def add(self, album_id: str, source: str, total_tracks: int | None) -> None: ...

    def count(self, source: str) -> int: ...

    def keep(self, source: str, state: Any) -> None: ...

    def save(self) -> None: ...

    def collected_page(self, source: str) -> None: ...


class SourceRun(Generic[StateT]):
    """One source's view of the run: Spotify, the options, its candidates and its checkpoint."""

    def __init__(self, host: RunHost, name: str):
        self._host = host
        self.name = name
        self.options = host.options
        self.catalog = host.catalog
        self.demand = host.demand
        self.since = host.since
        self.clock = host.clock
        self.log = host.log

    def check(self) -> None:
        """Raises ``Stop`` when the budget is spent or the deadline is near (before every call)."""
        self._host.check("collect")

    def full(self) -> bool:
        return self._host.count(self.name) >= self.options.max_per_source

    def add(self, album_id: str, total_tracks: int | None = None) -> None:
        self._host.add(album_id, self.name, total_tracks)

    def add_raw(self, raw: dict[str, Any]) -> None:
        """A simplified album object from Spotify (while the source is not full)."""
        if raw and raw.get("id") and not self.full():
            self.add(raw["id"], raw.get("total_tracks"))

    def keep(self, state: StateT) -> None:
        """Record the state (saved with the next checkpoint, or when the run stops)."""
        self._host.keep(self.name, state)

    def save(self, state: StateT) -> None:
        """Record the state and save the checkpoint."""
        self.keep(state)
        self._host.save()

    def page_read(self, state: StateT) -> None:
        """Record the state, save the checkpoint and report progress (after every page)."""
        self.keep(state)
        self._host.collected_page(self.name)
