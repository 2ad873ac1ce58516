"""Finding 5 of issue 15: while the budget store is down, all containers together stay
within the Spotify budget, and MusicBrainz is off."""

from musicboxd.config import Settings
from musicboxd.errors import CacheUnavailable
from musicboxd.wiring import AppContainer
from tests.fakes import FakeClock
from tests.unit.test_budget import MemoryBudgetStore, budget


def test_each_containers_share_is_the_budget_over_the_configured_concurrency():
    clock = FakeClock(1_000_000.0)
    settings = Settings(rate_limit_per_window=150, lambda_concurrency=30)
    assert settings.spotify_local_limit == 5
    containers = []
    for _ in range(settings.lambda_concurrency):
        store = MemoryBudgetStore(limit=150)
        store.fail = True
        containers.append(budget(store, clock, local_limit=settings.spotify_local_limit))
    granted = sum(container.acquire() for container in containers for _ in range(50))
    assert granted <= settings.rate_limit_per_window


def test_wired_budgets_while_the_store_is_down():
    container = AppContainer(Settings(rate_limit_per_window=150, lambda_concurrency=30, table_name="t"))

    def down(**kwargs):
        raise CacheUnavailable("budget store unreachable")

    for shared in (container.spotify_budget, container.musicbrainz_budget):
        shared._store.take = down
    assert sum(container.spotify_budget.acquire() for _ in range(50)) == 5
    assert not container.musicbrainz_budget.acquire()  # MusicBrainz is off, not 1/s per container
