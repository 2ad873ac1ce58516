"""The shared client-credentials token: in-process copy -> shared store (SSM) -> token endpoint.

Renewal without a stampede (issue 15, finding 6): a token stays in use through its refresh
``margin``. Each container starts renewing at its own jittered moment inside the margin
and then at most once per ``recheck_seconds`` (jittered): it reads the store once (someone
may already have renewed), and only the holder of a short lease fetches a new token. A
failed renewal keeps the current token. Only a container with no usable token at all
waits, briefly and with a bounded number of store reads, for a lease holder's token.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable

from musicboxd.ports import Clock, Lease, Token, TokenStore

logger = logging.getLogger(__name__)

EXPIRY_SLACK_SECONDS = 5.0  # closer to expiry than this, a token is no longer used


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
        recheck_seconds: float = 10.0,
        wait_seconds: float = 2.0,
        poll_seconds: float = 0.25,
        max_polls: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        remaining: Callable[[], float] = lambda: float("inf"),
        jitter: Callable[[], float] = random.random,
    ):
        self._fetch = fetch
        self._store = store
        self._lease = lease
        self._clock = clock or SystemClock()
        self._margin = margin
        self._recheck = recheck_seconds
        self._wait = wait_seconds
        self._poll = poll_seconds
        self._max_polls = max_polls
        self._sleep = sleep
        self._remaining = remaining  # the request's upstream time left: never wait past it
        self._jitter = jitter
        self._token: Token | None = None
        self._renew_at = 0.0  # when this container next tries to renew the token it holds
        self._rejected: set[str] = set()
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            now = self._clock.now()
            token = self._token
            if token is not None and self._usable(token, now, slack=EXPIRY_SLACK_SECONDS):
                if now >= self._renew_at and not self._usable(token, now, slack=self._margin):
                    self._renew_in_background_of_this_request(now)
                return self._token.access_token  # type: ignore[union-attr]
            token = self._from_store(slack=self._margin) or self._refresh()
            self._adopt(token)
            return token.access_token

    def invalidate(self, access_token: str) -> None:
        """The API answered 401 with this token: never use it again."""
        with self._lock:
            self._rejected.add(access_token)
            if self._token and self._token.access_token == access_token:
                self._token = None

    def after_restore(self) -> None:
        """A SnapStart copy, restored any time after its snapshot: forget a token that is no longer
        usable, and draw this copy's own renewal time (copies must not renew in lockstep)."""
        with self._lock:
            if self._token is None:
                return
            if self._usable(self._token, self._clock.now(), slack=EXPIRY_SLACK_SECONDS):
                self._adopt(self._token)
            else:
                self._token = None

    # -- plumbing

    def _usable(self, token: Token | None, now: float, *, slack: float) -> bool:
        return token is not None and token.access_token not in self._rejected and token.valid(now, slack)

    def _adopt(self, token: Token) -> None:
        self._token = token
        # Start renewing somewhere in the first half of the margin: containers spread out.
        self._renew_at = token.expires_at - self._margin + self._jitter() * self._margin / 2

    def _renew_in_background_of_this_request(self, now: float) -> None:
        """Inside the margin: one store read, then the lease holder fetches; never raises."""
        self._renew_at = now + self._recheck * (0.5 + self._jitter())
        renewed = self._from_store(slack=self._margin)
        if renewed is None:
            coordinated = self._lease is not None and self._store is not None
            try:
                if coordinated and not self._lease.acquire(self.LEASE, ttl_seconds=max(self._wait * 2, 5.0)):  # type: ignore[union-attr]
                    return  # someone else renews; keep the current token
            except Exception:
                logger.warning("token lease unavailable; keeping the current token for now")
                return
            try:
                renewed = self._fetch()
                if self._store is not None:
                    with contextlib.suppress(Exception):  # failing to share is fine
                        self._store.save(renewed)
            except Exception as exc:
                logger.warning("token renewal failed, the current token stays in use: %s", exc)
            finally:
                if coordinated:
                    with contextlib.suppress(Exception):
                        self._lease.release(self.LEASE)  # type: ignore[union-attr]
        if renewed is not None:
            self._adopt(renewed)

    def _from_store(self, *, slack: float) -> Token | None:
        if self._store is None:
            return None
        try:
            token = self._store.load()
        except Exception:  # the store is an optimisation: fall back to fetching
            return None
        return token if self._usable(token, self._clock.now(), slack=slack) else None

    def _refresh(self) -> Token:
        """No usable token at all: the lease holder fetches, the others wait a little for it."""
        leased = True
        if self._lease is not None and self._store is not None:
            try:
                leased = self._lease.acquire(self.LEASE, ttl_seconds=max(self._wait * 2, 5.0))
            except Exception:
                leased = True
            if not leased:
                waited, polls = 0.0, 0
                while polls < self._max_polls and waited < self._wait:
                    pause = self._poll * (1 + self._jitter())
                    if self._remaining() <= pause:
                        break  # never wait past the request's deadline
                    self._sleep(pause)
                    waited += pause
                    polls += 1
                    token = self._from_store(slack=EXPIRY_SLACK_SECONDS)
                    if token is not None:
                        return token
        try:
            token = self._fetch()
            if self._store is not None:
                with contextlib.suppress(Exception):  # failing to share is fine
                    self._store.save(token)
        finally:
            if leased and self._lease is not None and self._store is not None:
                with contextlib.suppress(Exception):
                    self._lease.release(self.LEASE)
        return token
