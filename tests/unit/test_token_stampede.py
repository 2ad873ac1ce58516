"""Finding 6 of issue 15: token expiry across many containers does not stampede SSM, and an
SSM failure never becomes empty credentials."""

import random
import threading
import time

import pytest
from botocore.exceptions import ClientError

from musicboxd.adapters.ssm import CachedCredentials
from musicboxd.config import Settings
from musicboxd.errors import Unavailable
from musicboxd.ports import Token
from musicboxd.services.token import TokenProvider
from tests.fakes import FakeClock

CONTAINERS = 20


class CountingStore:
    """The shared SSM parameter: thread-safe, counts GetParameter calls."""

    def __init__(self):
        self.token: Token | None = None
        self.loads = self.saves = 0
        self.throttled = False
        self._lock = threading.Lock()

    def load(self):
        with self._lock:
            self.loads += 1
            if self.throttled:
                raise ClientError({"Error": {"Code": "ThrottlingException"}}, "GetParameter")
            return self.token

    def save(self, token):
        with self._lock:
            self.saves += 1
            self.token = token


class SharedLease:
    def __init__(self):
        self.held: set[str] = set()
        self._lock = threading.Lock()

    def acquire(self, name, *, ttl_seconds):
        with self._lock:
            if name in self.held:
                return False
            self.held.add(name)
            return True

    def release(self, name):
        with self._lock:
            self.held.discard(name)


def test_token_expiry_across_20_concurrent_containers_costs_few_ssm_reads():
    clock, store, lease = FakeClock(), CountingStore(), SharedLease()
    fetched: list[str] = []
    fetch_lock = threading.Lock()

    def fetch():
        time.sleep(0.2)  # the accounts service takes a while: the others must not queue or poll meanwhile
        with fetch_lock:
            fetched.append("x")
            return Token(f"tok{len(fetched)}", clock.now() + 3600)

    sleeps: list[float] = []

    def sleep(seconds):
        sleeps.append(seconds)
        time.sleep(seconds)

    containers = [
        TokenProvider(fetch, store, lease=lease, clock=clock, sleep=sleep, jitter=random.Random(seed).random)
        for seed in range(CONTAINERS)
    ]
    assert {container.get() for container in containers} == {"tok1"}
    store.loads = 0
    clock.advance(3600 - 60)  # every container reaches the margin at the same moment
    seen: list[str] = []
    for _ in range(60):  # every container serves a request per second through the whole margin
        threads = [threading.Thread(target=lambda c=c: seen.append(c.get())) for c in containers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        clock.advance(1)
    assert all(seen)  # nobody was ever without a token
    assert sleeps == []  # nobody waited: the current token stayed in use
    assert len(fetched) == 2  # one renewal for all twenty
    assert store.loads <= 3 * CONTAINERS, store.loads
    assert {container.get() for container in containers} == {"tok2"}


def test_ssm_throttled_keeps_the_current_token():
    clock, store = FakeClock(), CountingStore()
    provider = TokenProvider(lambda: Token("fresh", clock.now() + 3600), store, lease=SharedLease(), clock=clock)
    assert provider.get() == "fresh"
    store.throttled = True
    clock.advance(3600 - 30)
    for _ in range(20):
        assert provider.get()
        clock.advance(0.5)


def test_credentials_are_read_once_and_an_ssm_failure_is_unavailable():
    settings = Settings(spotify_client_id_parameter="/id", spotify_client_secret_parameter="/secret")

    class Ssm:
        calls = 0
        fail = False

        def get_parameters(self, Names, WithDecryption):
            Ssm.calls += 1
            if Ssm.fail:
                raise ClientError({"Error": {"Code": "ThrottlingException"}}, "GetParameters")
            return {"Parameters": [{"Name": "/id", "Value": "the-id"}, {"Name": "/secret", "Value": "s"}]}

    credentials = CachedCredentials(settings, Ssm())
    assert credentials.get() == credentials.get() == ("the-id", "s")
    assert Ssm.calls == 1
    Ssm.fail = True
    with pytest.raises(Unavailable):
        CachedCredentials(settings, Ssm()).get()

    class Empty:
        def get_parameters(self, Names, WithDecryption):
            return {"Parameters": []}

    with pytest.raises(Unavailable):
        CachedCredentials(settings, Empty()).get()
