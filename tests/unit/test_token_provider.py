import threading

from musicboxd.ports import Token
from musicboxd.services.token import TokenProvider
from tests.fakes import FakeClock, MemoryLease, MemoryTokenStore


def make(clock, store, lease=None, **kw):
    fetched = []

    def fetch():
        fetched.append(clock.now())
        return Token(f"tok{len(fetched)}", clock.now() + 3600)

    return TokenProvider(fetch, store, lease=lease, clock=clock, **kw), fetched


def test_token_reused_in_process_and_across_instances_via_store():
    clock, store = FakeClock(), MemoryTokenStore()
    first, fetched = make(clock, store)
    assert first.get() == "tok1"
    assert first.get() == "tok1"
    second, fetched2 = make(clock, store)  # a new "instance" sharing the store
    assert second.get() == "tok1"
    assert len(fetched) == 1 and fetched2 == [] and store.saves == 1


def test_refreshed_inside_the_60s_margin_at_a_jittered_moment():
    clock, store = FakeClock(), MemoryTokenStore()
    provider, fetched = make(clock, store, jitter=lambda: 0.5)  # renews 45 s before expiry
    provider.get()
    clock.advance(3600 - 50)
    assert provider.get() == "tok1"  # inside the margin, still before this container's moment
    clock.advance(6)
    assert provider.get() == "tok2"
    assert store.token.access_token == "tok2"


def test_invalidated_token_is_not_taken_back_from_the_store():
    clock, store = FakeClock(), MemoryTokenStore()
    provider, fetched = make(clock, store)
    bad = provider.get()
    provider.invalidate(bad)
    assert provider.get() == "tok2"
    assert len(fetched) == 2


def test_concurrent_cold_starts_fetch_once_with_a_lease():
    clock, store, lease = FakeClock(), MemoryTokenStore(), MemoryLease()
    lease.acquire(TokenProvider.LEASE, ttl_seconds=5)  # another instance is fetching right now
    follower, fetched = make(clock, store, lease, sleep=lambda s: None, wait_seconds=1.0, poll_seconds=0.1)
    polls = []

    def sleep(s):
        polls.append(s)
        if len(polls) == 3:  # the leader's token lands in the store
            store.save(Token("leader", clock.now() + 3600))

    follower._sleep = sleep
    assert follower.get() == "leader"
    assert fetched == [] and len(polls) == 3


def test_follower_fetches_its_own_if_leader_never_delivers():
    clock, store, lease = FakeClock(), MemoryTokenStore(), MemoryLease()
    lease.acquire(TokenProvider.LEASE, ttl_seconds=5)
    follower, fetched = make(clock, store, lease, sleep=lambda s: None, wait_seconds=0.5, poll_seconds=0.1)
    assert follower.get() == "tok1" and len(fetched) == 1


def test_broken_store_still_yields_a_token():
    class Broken:
        def load(self):
            raise RuntimeError("ssm down")

        def save(self, token):
            raise RuntimeError("ssm down")

    provider, fetched = make(FakeClock(), Broken())
    assert provider.get() == "tok1"


def test_threads_in_one_instance_fetch_once():
    clock, store = FakeClock(), MemoryTokenStore()
    provider, fetched = make(clock, store)
    threads = [threading.Thread(target=provider.get) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fetched) == 1


def test_waiting_for_another_instance_never_outlasts_the_request_deadline():
    clock, store, lease = FakeClock(), MemoryTokenStore(), MemoryLease()
    lease.acquire(TokenProvider.LEASE, ttl_seconds=5)
    left = [0.35]

    def sleep(s):
        left[0] -= s

    follower, fetched = make(
        clock, store, lease, sleep=sleep, wait_seconds=2.0, poll_seconds=0.1, remaining=lambda: left[0]
    )
    assert follower.get() == "tok1"  # gave up waiting after ~0.3 s and fetched its own
    assert left[0] >= 0 and len(fetched) == 1
