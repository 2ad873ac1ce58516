"""What the handlers and jobs take from the composition root: ``Container`` (HTTP functions) and
``JobContainer`` (populate, cleanup). ``wiring.AppContainer`` implements both; test fakes
(``tests/fakes.FakeContainer``) implement ``Container``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from musicboxd.ports import (
    CheckpointStore,
    DemandReader,
    IndexPointer,
    Lease,
    Maintenance,
    PopularStore,
    SweepStore,
    Telemetry,
)

if TYPE_CHECKING:
    from musicboxd.config import Settings
    from musicboxd.ports import UsageStore
    from musicboxd.services.catalog import AlbumService, SearchService
    from musicboxd.services.tier1 import Tier1Holder
    from musicboxd.services.usage import UsageRecorder
    from musicboxd.services.verification import ShadowVerifier


class Container(Protocol):
    """The HTTP functions' services and the usage counters they flush after each request."""

    settings: Settings  # the request deadline (UPSTREAM_BUDGET_SECONDS) comes from here

    @property
    def search_service(self) -> SearchService: ...

    @property
    def album_service(self) -> AlbumService: ...

    @property
    def tier1(self) -> Tier1Holder: ...

    @property
    def usage(self) -> UsageRecorder: ...

    @property
    def usage_store(self) -> UsageStore: ...

    def after_restore(self) -> None:
        """A SnapStart copy was restored: renew what copies of one snapshot must not share."""


class JobContainer(Container, Protocol):
    """What populate and cleanup are composed from (adapters built on first use)."""

    @property
    def telemetry(self) -> Telemetry: ...

    @property
    def demand_reader(self) -> DemandReader: ...

    @property
    def sweep_store(self) -> SweepStore: ...

    @property
    def album_store(self) -> PopularStore: ...

    @property
    def checkpoints(self) -> CheckpointStore: ...

    @property
    def maintenance(self) -> Maintenance: ...

    @property
    def job_lease(self) -> Lease: ...

    @property
    def rate_budget(self) -> Any: ...

    def observe_spotify(self, endpoint: str, status: int, seconds: float) -> None: ...

    def spotify_catalog(
        self, *, budget: Any, observe: Callable[[str, int, float], None], on_rate_limited: Any, interactive: bool = True
    ) -> Any: ...

    def rebuild_index(self, *, with_sweep: bool | None = None) -> IndexPointer: ...

    def shadow_verifier(self, catalog: Any) -> ShadowVerifier: ...
