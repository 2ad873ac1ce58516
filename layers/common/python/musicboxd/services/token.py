"""The shared client-credentials token: in-process copy -> shared store (SSM) -> token endpoint.

Refreshed ``margin`` seconds before expiry. When many cold starts need a token at once,
only the holder of a short lease fetches one; the others wait briefly for it to appear in
the shared store (and fetch their own only if it never does, so nobody hangs).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from musicboxd.ports import Clock, Lease, Token, TokenStore


class SystemClock:
    def now(self) -> float:
        return time.time()


class TokenProvider:
    LEASE = "spotify-token"

    def __init__(
        self,
        fetch: Callable[[], Token],
        store: TokenStore | None = None,
        *,
        lease: Lease | None = None,
        clock: Clock | None = None,
        margin: float = 60.0,
        wait_seconds: float = 2.0,
        poll_seconds: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
        remaining: Callable[[], float] = lambda: float("inf"),
    ):
        self._fetch = fetch
        self._store = store
        self._lease = lease
        self._clock = clock or SystemClock()
        self._margin = margin
        self._wait = wait_seconds
        self._poll = poll_seconds
        self._sleep = sleep
        self._remaining = remaining  # the request's upstream time left: never wait past it
        self._token: Token | None = None
        self._rejected: set[str] = set()
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._usable(self._token):
                return self._token.access_token  # type: ignore[union-attr]
            token = self._from_store()
            if token is None:
                token = self._refresh()
            self._token = token
            return token.access_token

    def invalidate(self, access_token: str) -> None:
        """The API answered 401 with this token: never use it again."""
        with self._lock:
            self._rejected.add(access_token)
            if self._token and self._token.access_token == access_token:
                self._token = None

    def after_restore(self) -> None:
        """A SnapStart copy restored hours after its snapshot: forget a token that is no longer fresh."""
        with self._lock:
            if not self._usable(self._token):
                self._token = None

    def _usable(self, token: Token | None) -> bool:
        return (
            token is not None
            and token.access_token not in self._rejected
            and token.valid(self._clock.now(), self._margin)
        )

    def _from_store(self) -> Token | None:
        if self._store is None:
            return None
        try:
            token = self._store.load()
        except Exception:  # the store is an optimisation: fall back to fetching
            return None
        return token if self._usable(token) else None

    def _refresh(self) -> Token:
        leased = True
        if self._lease is not None and self._store is not None:
            try:
                leased = self._lease.acquire(self.LEASE, ttl_seconds=max(self._wait * 2, 5.0))
            except Exception:
                leased = True
            if not leased:
                # Someone else is fetching: wait for their token to reach the store.
                waited = 0.0
                while waited < self._wait and self._remaining() > self._poll:
                    self._sleep(self._poll)
                    waited += self._poll
                    token = self._from_store()
                    if token is not None:
                        return token
        token = self._fetch()
        if self._store is not None:
            # Failing to share is fine: the token is still usable in-process.
            with contextlib.suppress(Exception):
                self._store.save(token)
        if leased and self._lease is not None and self._store is not None:
            with contextlib.suppress(Exception):
                self._lease.release(self.LEASE)
        return token
