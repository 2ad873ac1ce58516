"""App-wide upstream call budget + shared 429 circuit (the logic; storage is a port).

Design: docs/design/rate-budget.md.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from musicboxd.errors import CacheUnavailable, RateLimited
from musicboxd.ports import CIRCUIT_CLOSED, OK, WINDOW_FULL, BudgetStore, Grant

logger = logging.getLogger(__name__)

FAR_FUTURE = 4_102_444_800.0  # 2100-01-01: "any closure has passed"


class LocalWindow:
    """In-process sliding window: the fail-open limiter while the shared store is down."""

    def __init__(self, limit: int, window_seconds: float):
        self.limit = max(0, limit)  # 0: no call at all while the shared store is down
        self.window = window_seconds
        self._calls: deque[float] = deque()

    def take(self, now: float, *, limit: int | None = None) -> bool:
        """One call if the window holds fewer than ``limit`` (at most ``self.limit``) calls."""
        while self._calls and now - self._calls[0] >= self.window:
            self._calls.popleft()
        if len(self._calls) >= min(self.limit, self.limit if limit is None else limit):
            return False
        self._calls.append(now)
        return True

    def retry_at(self, now: float) -> float:
        if not self._calls:
            return now + self.window
        return self._calls[0] + self.window if len(self._calls) >= self.limit else now


class SharedBudget:
    """RateBudget port (``acquire``/``retry_after``) plus the circuit hooks the adapter calls."""

    def __init__(
        self,
        store: BudgetStore,
        *,
        name: str,
        local_limit: int,
        window_seconds: float,
        quota_close_seconds: float = 3600.0,
        max_close_seconds: float = 86_400.0,
        refusal_cache_seconds: float = 1.0,
        outage_backoff_seconds: float = 3.0,
        background_fraction: float = 1.0,
        clock: Callable[[], float] = time.time,
    ):
        self._store = store
        self.name = name
        self._local = LocalWindow(local_limit, window_seconds)
        # while the store is down, background calls (jobs, deep paging) keep to this part of the local window
        self._local_background_limit = math.floor(max(0, local_limit) * background_fraction)
        self._quota_close = quota_close_seconds
        self._max_close = max_close_seconds
        self._refusal_cache = refusal_cache_seconds
        self._outage_backoff = outage_backoff_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._closed_until = 0.0  # circuit, as last known in-process
        self._refused_until = {True: 0.0, False: 0.0}  # window/probe refusals, per traffic class
        self._store_down_until = 0.0
        self._probing = False
        self._last_retry_at = 0.0
        self._last_reason = OK
        self._refused_reason = {True: WINDOW_FULL, False: WINDOW_FULL}
        self.store_calls = 0  # round trips to the shared store (tests, metrics)
        self.local_grants = 0  # calls allowed by the fail-open limiter

    # -- RateBudget port

    def acquire(self, *, interactive: bool = True) -> bool:
        return self.decide(interactive=interactive).granted

    def decide(self, *, interactive: bool = True) -> Grant:
        """Like ``acquire`` but says why a call was refused and until when."""
        granted = self._acquire(interactive)
        if granted:
            return Grant(True)
        return Grant(False, self._last_reason, retry_at=self._last_retry_at)

    def _acquire(self, interactive: bool) -> bool:
        now = self._clock()
        with self._lock:
            if now < self._closed_until:
                return self._refuse(self._closed_until, CIRCUIT_CLOSED)
            if now < self._refused_until[interactive]:
                return self._refuse(self._refused_until[interactive], self._refused_reason[interactive])
            if now < self._store_down_until:
                return self._take_local(now, interactive)
        try:
            self.store_calls += 1
            grant = self._store.take(now=now, interactive=interactive)
        except CacheUnavailable as exc:
            with self._lock:
                if now >= self._store_down_until:
                    logger.warning(
                        "%s budget store unavailable, failing open on the in-process limiter: %s", self.name, exc
                    )
                self._store_down_until = now + self._outage_backoff
                return self._take_local(now, interactive)
        with self._lock:
            if grant.granted:
                if grant.probe:
                    self._probing = True
                    logger.warning("%s circuit half-open: this instance probes", self.name)
                return True
            if grant.reason == CIRCUIT_CLOSED:
                self._closed_until = max(self._closed_until, grant.retry_at)
                return self._refuse(grant.retry_at, CIRCUIT_CLOSED)
            # Window full or someone else is probing: nothing changes before retry_at,
            # but do not trust that for long (clock skew, other slices).
            until = min(grant.retry_at, now + self._refusal_cache) if grant.retry_at > now else now
            self._refused_until[interactive] = until
            self._refused_reason[interactive] = grant.reason
            return self._refuse(max(grant.retry_at, now + 0.001), grant.reason)

    def retry_after(self) -> float:
        """Seconds until a refused call may succeed (for the RateLimited raised by the adapter)."""
        return max(1.0, math.ceil(self._last_retry_at - self._clock()))

    # -- circuit hooks

    def on_rate_limited(self, exc: RateLimited) -> None:
        """The upstream answered 429: close the circuit for every instance."""
        now = self._clock()
        seconds = exc.retry_after
        if exc.quota:
            seconds = max(seconds, self._quota_close)
            logger.error(
                "%s QUOTA EXCEEDED: circuit closed for %.0f s (Retry-After %.0f s)",
                self.name,
                seconds,
                exc.retry_after,
            )
        else:
            logger.warning("%s answered 429: circuit closed for %.0f s", self.name, seconds)
        until = now + min(max(seconds, 1.0), self._max_close)
        with self._lock:
            self._closed_until = max(self._closed_until, until)
            self._probing = False
            store_up = now >= self._store_down_until
        if store_up:
            try:
                self._store.close(until=until, quota=exc.quota, now=now)
            except CacheUnavailable as err:
                logger.warning("%s circuit kept in-process only: %s", self.name, err)
                with self._lock:
                    self._store_down_until = now + self._outage_backoff

    def observe(self, status: int) -> None:
        """Every upstream answer: a probe that got a real answer reopens the circuit."""
        if status == 429 or status >= 500 or not self._probing:
            return
        now = self._clock()
        with self._lock:
            self._probing = False
            self._closed_until = 0.0
        try:
            self._store.reopen(now=now)
            logger.warning("%s circuit reopened by a successful probe", self.name)
        except CacheUnavailable:
            pass

    def closed_until(self) -> float:
        return self._closed_until

    def reset_circuit(self) -> None:
        """Operators/tests: open the circuit now, in-process and in the store."""
        with self._lock:
            self._closed_until = 0.0
            self._refused_until = {True: 0.0, False: 0.0}
            self._probing = False
        self._store.reopen(now=FAR_FUTURE)

    # -- internals (lock held)

    def _refuse(self, retry_at: float, reason: str) -> bool:
        self._last_retry_at = retry_at
        self._last_reason = reason
        return False

    def _take_local(self, now: float, interactive: bool) -> bool:
        if self._local.take(now, limit=None if interactive else self._local_background_limit):
            self.local_grants += 1
            return True
        return self._refuse(self._local.retry_at(now), WINDOW_FULL)


class BackgroundBudget:
    """The shared budget as background jobs (populate/cleanup) use it.

    Interactive requests never wait; a job may: while the shared window is full (its share of it,
    see ``SPOTIFY_BACKGROUND_FRACTION``) it sleeps until the window frees up, at most
    ``max_wait_seconds`` per call and never into the last ``reserve_seconds`` of its deadline
    (the Lambda's remaining time). A closed circuit or a busy probe is not waited for: the job
    stops and resumes from its checkpoint later.
    """

    def __init__(
        self,
        budget: SharedBudget,
        *,
        deadline: Callable[[], object],
        reserve_seconds: float = 30.0,
        max_wait_seconds: float = 40.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._budget = budget
        self._deadline = deadline
        self._reserve = reserve_seconds
        self._max_wait = max_wait_seconds
        self._clock = clock
        self._sleep = sleep
        self.waited_seconds = 0.0

    def acquire(self, *, interactive: bool = False) -> bool:
        waited = 0.0
        while True:
            decision = self._budget.decide(interactive=interactive)
            if decision.granted:
                return True
            if decision.reason != WINDOW_FULL:
                return False
            delay = max(0.05, decision.retry_at - self._clock())
            left = self._deadline().remaining()  # type: ignore[attr-defined]
            if waited + delay > self._max_wait or left - delay < self._reserve:
                return False
            self._sleep(delay)
            waited += delay
            self.waited_seconds += delay

    def retry_after(self) -> float:
        return self._budget.retry_after()

    def on_rate_limited(self, exc: RateLimited) -> None:
        self._budget.on_rate_limited(exc)

    def observe(self, status: int) -> None:
        self._budget.observe(status)


class ShareLimiter:
    """Per-client and per-class shares of the upstream budget (issue 15, finding 2).

    One caller (its source IP as API Gateway reports it) may use at most ``client_share`` of
    the budget per rolling window, and each budget class its own share (``class_shares``;
    classes not listed are limited by the shared budget alone). Each share is a budget of its
    own in the shared store (``store_for(name, limit)``: the same sliding-slice item as the
    app-wide budget, so no rolling window ever sees more than the share), taken only on a
    miss. Beyond its share a caller's misses degrade (stale, fallbacks) while other callers
    still reach the upstream. Every grant is a store take, in every container, so no number
    of containers lets a caller pass its share (docs/design/rate-budget.md, "Shares"). A
    refusal is remembered in-process until it can change, so a flood costs no store call;
    while the store is down each container keeps its own window with ``1 / containers`` of
    each share.
    """

    MAX_TRACKED = 4096  # names with an in-process store handle or refusal (LRU)

    def __init__(
        self,
        store_for: Callable[[str, int], BudgetStore],
        *,
        budget: int,
        window_seconds: float,
        client_share: float,
        class_shares: dict[str, float],
        containers: int = 1,
        clock: Callable[[], float] = time.time,
    ):
        self._store_for = store_for
        self._window = window_seconds
        self._client_limit = max(1, math.floor(budget * client_share))
        self._class_limits = {name: max(1, math.floor(budget * share)) for name, share in class_shares.items()}
        self._containers = max(1, containers)
        self._clock = clock
        self._lock = threading.Lock()
        self._stores: OrderedDict[str, BudgetStore] = OrderedDict()
        self._refused: OrderedDict[str, float] = OrderedDict()  # name -> refused until
        self._local: OrderedDict[str, LocalWindow] = OrderedDict()  # while the store is down
        self._retry_at = 0.0

    def allow(self, client: str | None, budget_class: str, *, calls: int = 1) -> bool:
        now = self._clock()
        shares = []
        if client:  # first: a caller over its share is refused in-process, without a store call
            shares.append((f"client#{client}", self._client_limit))
        if budget_class in self._class_limits:
            shares.append((f"class#{budget_class}", self._class_limits[budget_class]))
        for name, limit in shares:
            with self._lock:
                until = self._refused.get(name, 0.0)
                if until > now:
                    self._retry_at = until
                    return False
            for _ in range(calls):
                retry_at = self._take(name, limit, now)
                if retry_at is not None:
                    with self._lock:
                        self._refused[name] = self._retry_at = max(retry_at, now + 0.001)
                        _trim(self._refused, self.MAX_TRACKED)
                    return False
        return True

    def retry_after(self) -> float:
        return max(1.0, math.ceil(self._retry_at - self._clock()))

    def _take(self, name: str, limit: int, now: float) -> float | None:
        """None when granted, else when to ask again."""
        with self._lock:
            store = self._stores.get(name)
            if store is None:
                store = self._stores[name] = self._store_for(name, limit)
                _trim(self._stores, self.MAX_TRACKED)
        try:
            grant = store.take(now=now, interactive=True)
        except CacheUnavailable:
            with self._lock:
                local = self._local.get(name)
                if local is None:
                    local = self._local[name] = LocalWindow(max(1, limit // self._containers), self._window)
                    _trim(self._local, self.MAX_TRACKED)
                return None if local.take(now) else local.retry_at(now)
        return None if grant.granted else grant.retry_at


def _trim(items: OrderedDict, size: int) -> None:
    while len(items) > size:
        items.popitem(last=False)
