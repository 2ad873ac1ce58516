"""SnapStart offline: one snapshot (before-snapshot hooks), two restored copies (fork + after-restore hooks).

Each copy answers a real request against the moto server with Spotify unreachable (so only a
cache hit can answer), and the copies must not share a TCP connection, random state or lease.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from musicboxd.adapters.dynamo import make_model
from tests.hit_path import ALBUM_ID, seed_hit_path

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="reads sockets from Linux /proc")


class _KeepAlive(BaseHTTPRequestHandler):
    """Forwards to the moto server but keeps the client's connection open (moto closes each one,
    AWS endpoints do not): so a snapshot holds pooled connections its copies could share."""

    protocol_version = "HTTP/1.1"
    hop_by_hop = ("host", "connection", "content-length", "transfer-encoding", "content-encoding")

    def _forward(self) -> None:
        self.server.peers.append(self.client_address)  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in self.hop_by_hop}
        upstream = httpx.request(self.command, self.server.target + self.path, content=body, headers=headers)  # type: ignore[attr-defined]
        self.send_response(upstream.status_code)
        for name, value in upstream.headers.items():
            if name.lower() not in self.hop_by_hop:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(upstream.content)))
        self.end_headers()
        self.wfile.write(upstream.content)

    do_GET = do_POST = _forward

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def keep_alive_server(moto_url):
    """The forwarding server; ``peers``: the client end (address, port) of each request it served."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    server.target = moto_url  # type: ignore[attr-defined]
    server.peers = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def keep_alive_moto(keep_alive_server):
    return f"http://127.0.0.1:{keep_alive_server.server_address[1]}"


@pytest.fixture
def cached(table_settings):
    """A cached album, a cached search page for "homogenic" and a tier-1 index, in a fresh table."""
    seed_hit_path(make_model(table_settings))
    return table_settings


def function_env(settings, endpoint: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'layers' / 'common' / 'python'}{os.pathsep}{ROOT}",
        "TABLE_NAME": settings.table_name,
        "DYNAMODB_ENDPOINT_URL": endpoint,
        "SSM_ENDPOINT_URL": endpoint,
        "TOKEN_PARAMETER": settings.token_parameter,
        "SPOTIFY_API_URL": "http://127.0.0.1:9/v1",  # nothing listens: only the cache can answer
        "SPOTIFY_ACCOUNTS_URL": "http://127.0.0.1:9/api/token",
        "MUSICBRAINZ_ENABLED": "false",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }


def simulate(settings, endpoint: str, function: str, path: str, *extra: str) -> dict:
    env = function_env(settings, endpoint)
    done = subprocess.run(
        [sys.executable, "-m", "tools.snapstart_sim", function, path, *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_two_restored_search_copies_answer_from_the_cache_and_share_nothing(cached, keep_alive_moto):
    result = simulate(cached, keep_alive_moto, "search", "/search?q=homogenic", "--open-http", keep_alive_moto + "/")
    snapshot, (first, second) = result["snapshot"], result["copies"]

    for copy in (first, second):
        assert copy["status"] == 200, copy["body"]
        assert copy["headers"]["X-Cache"] == "HIT"
        assert [album["id"] for album in copy["body"]["albums"]] == [ALBUM_ID]
    assert snapshot["sockets"], "the snapshot should hold open connections (index load, --open-http)"
    assert set(first["sockets"]).isdisjoint(snapshot["sockets"])
    assert set(second["sockets"]).isdisjoint(snapshot["sockets"])
    assert set(first["sockets"]).isdisjoint(second["sockets"])
    assert first["random"] != second["random"]
    assert len({snapshot["lease_holder"], first["lease_holder"], second["lease_holder"]}) == 3
    assert [first["lease_taken"], second["lease_taken"]] == [True, False]


def test_a_restored_album_copy_answers_from_the_cache(cached, keep_alive_moto):
    (first, second) = simulate(cached, keep_alive_moto, "album", f"/albums/{ALBUM_ID}")["copies"]
    for copy in (first, second):
        assert copy["status"] == 200, copy["body"]
        assert copy["headers"]["X-Cache"] == "HIT" and copy["body"]["id"] == ALBUM_ID
        assert copy["botocore_clients_built"] == 0  # built before the snapshot; a copy only connects
    assert set(first["sockets"]).isdisjoint(second["sockets"])
    assert first["lease_holder"] != second["lease_holder"]


# Imported by a miss only (wiring builds these on the first miss): a hit must not pay for them.
MISS_ONLY = ("httpx", "tenacity", "musicboxd.adapters.spotify", "musicboxd.adapters.musicbrainz")
_HIT_WITHOUT_SNAPSHOT = """
import json, sys
sys.path.insert(0, ".")
from tools.localstack.apigw import LambdaContext, build_event, load_handler, match
function, path = sys.argv[1:3]
handler = load_handler(function)
route, parameters, _ = match("GET", path.split("?", 1)[0])
response = handler(build_event("GET", path, route=route, path_parameters=parameters), LambdaContext(function))
print(json.dumps({"status": response["statusCode"], "cache": response["multiValueHeaders"]["X-Cache"],
                  "imported": sorted(name for name in sys.modules if name in json.loads(sys.argv[3]))}))
"""


@pytest.mark.parametrize(("function", "path"), [("search", "/search?q=homogenic"), ("album", f"/albums/{ALBUM_ID}")])
def test_a_cache_hit_without_snapstart_imports_nothing_only_a_miss_needs(cached, moto_url, function, path):
    done = subprocess.run(
        [sys.executable, "-c", _HIT_WITHOUT_SNAPSHOT, function, path, json.dumps(MISS_ONLY)],
        cwd=ROOT, env=function_env(cached, moto_url), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout)
    assert (answer["status"], answer["cache"]) == (200, ["HIT"])
    assert answer["imported"] == []


def test_after_restore_drops_the_connections_the_deadline_clients_pooled(cached, keep_alive_server, keep_alive_moto):
    """The cache and budgets send through DeadlineClient step clients (docs/design/deadlines.md):
    a restored copy must open its own connections, not reuse the snapshot's."""
    from dataclasses import replace

    from musicboxd.wiring import AppContainer

    container = AppContainer(replace(cached, dynamodb_endpoint_url=keep_alive_moto, l1_cache_items=0))

    def connection_of_a_read_through_the_deadline_client() -> tuple[str, int]:
        assert container.cache.get_album(ALBUM_ID) is not None
        return keep_alive_server.peers[-1]

    snapshot = connection_of_a_read_through_the_deadline_client()
    assert connection_of_a_read_through_the_deadline_client() == snapshot  # pooled: kept alive, reused
    container.after_restore()
    assert connection_of_a_read_through_the_deadline_client() != snapshot  # this copy's own connection
