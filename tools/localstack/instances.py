"""Lambda instances as worker processes, a pool per function that scales out like Lambda.

Each instance is its own interpreter (handler module, Powertools resolver, wiring, caches), as
each Lambda instance is its own container; it serves one invocation at a time. A pool reuses its
most recently used idle instance (warm) and starts a new one (cold: the handler's import is its
init phase) only when all are busy, up to ``maximum``; past that, requests wait for an instance.
Design: docs/design/local-gateway.md.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tools.localstack.lambda_context import LambdaContext
from tools.localstack.metrics_file import METRICS_FILE_ENV, divert_metrics

# "forkserver": instances are forked from a clean single-threaded server process, never from the
# gateway's (its moto, emulator and HTTP threads), which has imported the heavy libraries once:
# a cold start is a fork plus the handler's own import, and the libraries' pages are shared.
_FORKSERVER = multiprocessing.get_context("forkserver")
_FORKSERVER.set_forkserver_preload(
    ["boto3", "botocore.session", "aws_lambda_powertools.event_handler", "aws_lambda_powertools.logging",
     "aws_lambda_powertools.metrics", "httpx", "pynamodb.models", "tenacity"]
)  # fmt: skip
STOP_SECONDS = 5.0  # an instance that has not exited this long after it was told to is killed
COLD_START_MARGIN_SECONDS = 30.0  # waited past the function timeout (a cold start's import, the pipe)


class InvocationFailed(Exception):
    """The handler raised, the instance died or timed out: Lambda's "Internal server error"."""


class Instance:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, function: str, loader: Callable[[str], Any]):
        self.connection, child_end = _FORKSERVER.Pipe()
        self.process = _FORKSERVER.Process(
            target=serve_invocations,
            args=(function, loader, child_end, dict(os.environ)),
            name=f"lambda-{function}",
            daemon=True,
        )
        self.process.start()
        child_end.close()  # the parent keeps one end only: the instance sees EOF when the gateway goes away

    def invoke(self, event: dict[str, Any], timeout_seconds: float) -> dict[str, Any]:
        try:
            self.connection.send((event, timeout_seconds))
            if not self.connection.poll(timeout_seconds + COLD_START_MARGIN_SECONDS):
                self.process.kill()  # as Lambda ends a timed-out instance: its late answer must reach no one
                self.process.join(STOP_SECONDS)
                raise InvocationFailed(f"no answer within {timeout_seconds:.0f} s")
            succeeded, payload = self.connection.recv()
        except (EOFError, OSError) as exc:
            raise InvocationFailed(f"instance exited ({exc!r})") from exc
        if not succeeded:
            raise InvocationFailed(payload)
        return payload

    def stop(self) -> None:
        self.ask_to_stop()
        self.wait_stopped()

    def ask_to_stop(self) -> None:
        with contextlib.suppress(OSError):  # it already exited
            self.connection.send(None)

    def wait_stopped(self) -> None:
        self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(STOP_SECONDS)
        self.connection.close()


class InstancePool:
    """Instances of one function: warm ones first, a new one while all are busy, at most ``maximum``."""

    def __init__(self, function: str, *, maximum: int, loader: Callable[[str], Any], timeout_seconds: float):
        if maximum < 1:
            raise ValueError("maximum must be >= 1")
        self.function = function
        self.maximum = maximum
        self._loader = loader
        self._timeout = timeout_seconds
        self._condition = threading.Condition()
        self._idle: list[Instance] = []  # the most recently used last: taken first
        self._instances: list[Instance] = []
        self._starting = 0
        self._stopped = False
        self.started = 0  # instances started so far (cold starts)
        self.queued = 0  # requests that waited for an instance (all were busy, at the maximum)
        self.queued_seconds = 0.0  # their total wait

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        instance = self._acquire()
        healthy = False
        try:
            result = instance.invoke(event, self._timeout)
            healthy = True
            return result
        except InvocationFailed:
            healthy = instance.process.is_alive() and not instance.connection.closed
            raise
        finally:
            self._release(instance, healthy=healthy)

    def size(self) -> int:
        with self._condition:
            return len(self._instances)

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            instances, self._instances, self._idle = self._instances, [], []
            self._condition.notify_all()
        for instance in instances:
            instance.ask_to_stop()  # all at once: a busy instance exits after its invocation
        for instance in instances:
            instance.wait_stopped()

    def _acquire(self) -> Instance:
        with self._condition:
            waited_since = None
            while True:
                if self._stopped:
                    raise InvocationFailed("the gateway is stopping")
                if self._idle or len(self._instances) + self._starting < self.maximum:
                    if waited_since is not None:
                        self.queued += 1
                        self.queued_seconds += time.monotonic() - waited_since
                    if self._idle:
                        return self._idle.pop()
                    self._starting += 1
                    break
                waited_since = waited_since or time.monotonic()
                self._condition.wait()
        try:
            instance = Instance(self.function, self._loader)  # outside the lock: others may use warm ones
        except BaseException:
            with self._condition:
                self._starting -= 1
                self._condition.notify()
            raise
        with self._condition:
            self._starting -= 1
            self._instances.append(instance)
            self.started += 1
            stopped = self._stopped
        if stopped:
            instance.stop()
            raise InvocationFailed("the gateway is stopping")
        return instance

    def _release(self, instance: Instance, *, healthy: bool) -> None:
        with self._condition:
            if healthy and not self._stopped:
                self._idle.append(instance)
                self._condition.notify()
                return
            if instance in self._instances:
                self._instances.remove(instance)
            self._condition.notify()
        instance.stop()  # an instance that died, timed out or outlived the gateway is not reused


def serve_invocations(
    function: str, loader: Callable[[str], Any], connection: Connection, environment: dict[str, str]
) -> None:
    """An instance's main loop: init (import the handler), then one invocation per message."""
    os.environ.clear()  # the gateway's environment now, not the fork server's from its start
    os.environ.update(environment)

    warnings.filterwarnings("ignore", "No application metrics to publish")  # as make run does for its own
    metrics_file = os.environ.get(METRICS_FILE_ENV)
    if metrics_file:  # make run: EMF lines to the metrics file, as in the gateway's process
        divert_metrics(Path(metrics_file))
    try:
        handler, init_error = loader(function), None
    except Exception as exc:  # Lambda: an init error fails every invocation of this instance
        handler, init_error = None, f"init failed: {exc!r}"
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return  # the gateway went away: no orphan
        if message is None:
            return
        event, timeout_seconds = message
        if handler is None:
            connection.send((False, init_error))
            continue
        context = LambdaContext(function_name=f"musicboxd-{function}", timeout_seconds=timeout_seconds)
        try:
            answer = (True, handler(event, context))
        except Exception as exc:
            answer = (False, repr(exc))
        sys.stdout.flush()
        connection.send(answer)
