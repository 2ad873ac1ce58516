"""Offline Spotify Web API + MusicBrainz/Cover Art Archive emulator (stdlib HTTP server).

Run ``python -m tools.emulator`` (or ``make emulator``); in tests use ``start_emulator(port=0)``.
See the README section "Spotify emulator" for endpoints, variables and the ``/_emulator`` control
plane.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tools.emulator.catalog import Catalog, load_catalog
from tools.emulator.control import ControlApi
from tools.emulator.coverart import CoverArtApi
from tools.emulator.errors import ApiError, spotify_error
from tools.emulator.faults import fault_response
from tools.emulator.musicbrainz import MusicBrainzApi
from tools.emulator.spotify import SpotifyApi
from tools.emulator.state import Config, EmulatorState, config_from_env


class Handler(SpotifyApi, MusicBrainzApi, CoverArtApi, ControlApi, BaseHTTPRequestHandler):
    """Plumbing and dispatch; each service's endpoints live in its own module."""

    protocol_version = "HTTP/1.1"
    server_version = "SpotifyEmulator/1.0"
    server: EmulatorServer

    # -- plumbing --------------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.verbose:
            sys.stderr.write("emulator: " + (format % args) + "\n")

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json; charset=utf-8",
    ) -> None:
        if body is None:
            payload = b""
        elif isinstance(body, bytes):
            payload = body
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        # headers and body in one write (no Nagle/delayed-ACK stall on keep-alive connections)
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(payload)
        self.flush_headers()

    @property
    def base(self) -> str:
        host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        return f"http://{host}"

    def _dispatch(self, method: str) -> None:
        state = self.server.state
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        body = self._read_body()
        if path.startswith("/_emulator"):
            try:
                status, payload = self._control(method, path, params, body)
            except (ValueError, TypeError, KeyError, re.error) as exc:
                status, payload = 400, {"error": str(exc)}
            self._send(status, payload)
            return

        if path.startswith("/v1/") or path == "/v1":
            kind = "spotify"
        elif path == "/api/token":
            kind = "token"
        elif path.startswith("/ws/2/"):
            kind = "musicbrainz"
        elif path.startswith(("/release-group/", "/release/")):
            kind = "coverart"
        else:
            kind = "other"

        config = state.config
        latency = config.latency_ms
        rule = state.match_fault(method, path)
        if rule is not None:
            latency += rule.latency_ms
        status, payload, headers, ctype = 500, None, {}, "application/json; charset=utf-8"
        try:
            if rule is not None and rule.status:
                status, payload, headers = fault_response(rule, kind)
            elif kind == "spotify":
                status, payload, headers = self._spotify(method, path, params)
            elif kind == "token":
                status, payload = self._token(method, params, body)
            elif kind == "musicbrainz":
                status, payload, headers = self._musicbrainz(method, path, params)
            elif kind == "coverart":
                status, payload, headers = self._coverart(path)
                ctype = "text/plain; charset=utf-8"
            else:
                status, payload = 404, spotify_error(404, "Service not found")
        except ApiError as exc:
            status, headers = exc.status, exc.headers
            payload = {"error": exc.message} if kind == "musicbrainz" else spotify_error(exc.status, exc.message)
        except Exception as exc:  # pragma: no cover - a bug: answer 500 like an upstream failure
            status, payload = 500, spotify_error(500, f"Server error ({type(exc).__name__}: {exc})")
        state.count(kind, path, status)
        if latency > 0:
            time.sleep(latency / 1000.0)
        self._send(status, payload, headers, ctype)


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: EmulatorState, verbose: bool = False):
        super().__init__(address, Handler)
        self.state = state
        self.verbose = verbose


# ---------------------------------------------------------------------------------------------
# Public API


class EmulatorHandle:
    """A running emulator: ``.url``, ``.stop()``; also a context manager."""

    def __init__(self, server: EmulatorServer, thread: threading.Thread, startup_s: float):
        self.server = server
        self.thread = thread
        self.startup_s = startup_s
        host, port = server.server_address[:2]
        self.host = host
        self.port = port
        self.url = f"http://{host}:{port}"

    @property
    def state(self) -> EmulatorState:
        return self.server.state

    @property
    def catalog(self) -> Catalog:
        return self.server.state.catalog

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_OVERRIDE_KEYS = set(Config.__dataclass_fields__)


def build_state(seed: int | None = None, env: dict[str, str] | None = None, **overrides: Any) -> EmulatorState:
    env = dict(os.environ if env is None else env)
    config = config_from_env(env)
    unknown = set(overrides) - _OVERRIDE_KEYS
    if unknown:
        raise TypeError(f"unknown emulator settings: {sorted(unknown)}")
    if isinstance(overrides.get("today"), str):
        overrides["today"] = dt.date.fromisoformat(overrides["today"])
    config = replace(config, **overrides)
    if seed is None:
        seed = int(env.get("EMULATOR_SEED") or 2026)
    catalog = load_catalog(seed)
    catalog.index  # noqa: B018 - build the search index now, not on the first request
    return EmulatorState(catalog, config)


def start_emulator(
    port: int = 0,
    host: str = "127.0.0.1",
    *,
    seed: int | None = None,
    quiet: bool = False,
    verbose: bool = False,
    **overrides: Any,
) -> EmulatorHandle:
    """Start the emulator in a background thread and return its handle (prints the banner unless quiet).

    ``overrides`` are Config fields (``mode``, ``rate_limit``, ``latency_ms``, ``token_ttl``,
    ``client_id``, ``client_secret``, ``musicbrainz_rps``, ``today``); anything not given comes from
    the ``EMULATOR_*`` environment variables, then the defaults.
    """
    started = time.perf_counter()
    state = build_state(seed, **overrides)
    server = EmulatorServer((host, port), state, verbose=verbose)
    thread = threading.Thread(target=server.serve_forever, name="spotify-emulator", daemon=True)
    thread.start()
    handle = EmulatorHandle(server, thread, time.perf_counter() - started)
    if not quiet:
        print(banner(handle), flush=True)
    return handle


def banner(handle: EmulatorHandle) -> str:
    state = handle.state
    counts = state.catalog.counts()
    return (
        f"Spotify emulator listening on {handle.url} (seed {state.catalog.seed}, mode {state.config.mode}, "
        f"today {state.config.today.isoformat()})\n"
        f"  catalog: {counts['albums']} albums, {counts['artists']} artists, {counts['tracks']} tracks, "
        f"{counts['playlists']} playlists "
        f"(catalog {state.catalog.loaded_in:.2f}s, startup {handle.startup_s:.2f}s)\n"
        f"  rate limit: {state.config.rate_limit or 'off'} / 30 s, latency: {state.config.latency_ms} ms, "
        f"token ttl: {state.config.token_ttl} s"
    )


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tools.emulator", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("EMULATOR_HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT") or 8790))
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--mode", choices=("development", "extended"), default=None)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    overrides = {"mode": args.mode} if args.mode else {}
    handle = start_emulator(args.port, args.host, seed=args.seed, quiet=False, verbose=args.verbose, **overrides)

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C and `kill` both stop it cleanly (also when started in the background, where SIGINT is ignored)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while handle.thread.is_alive():
            handle.thread.join(0.5)
    except KeyboardInterrupt:
        print("\nstopping emulator", flush=True)
    finally:
        handle.stop()
    return 0
