"""API Gateway REST (v1) proxy emulation: HTTP request -> proxy event -> handler -> HTTP response.

Routes come from ``musicboxd.routes.ROUTES`` (the same table the CDK API is built from).
Like API Gateway, an unknown path or method never reaches a function: it gets the
service's error envelope here (404, or 405 with ``Allow``, as the deployed API's mock methods
answer), and a CORS preflight (OPTIONS) gets API Gateway's 204. Any method, TRACE included.
An ``iam_auth`` route needs a SigV4 ``Authorization`` header, as deployed (not verified here).
An instance serves one request at a time, as a Lambda instance does: its Powertools resolver (and
the routers bound to it) hold the current request, so two concurrent invocations of one app in one
interpreter would read each other's event. With ``instances=N`` (``make run``, the abuse bench) a
function scales out to N worker processes (``tools.localstack.instances``); without (tests that put
fakes into this process) it runs here, one invocation at a time. Different functions run at once.
The caller's address becomes ``requestContext.identity.sourceIp``.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from musicboxd.routes import (
    CORS_ALLOW_HEADERS,
    CORS_ALLOW_METHODS,
    CORS_MAX_AGE_SECONDS,
    ROUTES,
    Route,
    allowed_methods,
)
from tools.localstack.instances import InstancePool
from tools.localstack.lambda_context import LambdaContext

ROOT = Path(__file__).resolve().parents[2]
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{([^/]+)\}", r"(?P<\1>[^/]+)", path) + "$")


COMPILED = [(r, _pattern(r.path)) for r in ROUTES]


def match(method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """(route, path parameters, path exists with another method)."""
    other_method = False
    for route, rx in COMPILED:
        found = rx.match(path)
        if found:
            if route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}, False
            other_method = True
    return None, {}, other_method


def build_event(
    method: str,
    raw_path: str,
    *,
    route: Route,
    path_parameters: dict[str, str],
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    stage: str = "local",
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    split = urlsplit(raw_path)
    query = parse_qs(split.query, keep_blank_values=True)
    request_id = str(uuid.uuid4())
    headers = dict(headers or {})
    is_text = not body or _is_text(headers.get("content-type", headers.get("Content-Type", "")))
    return {
        "resource": route.path,
        "path": unquote(split.path),
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": method,
            "path": f"/{stage}{split.path}",
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "accountId": "000000000000",
            "apiId": "local",
        },
        "body": (body.decode("utf-8", "replace") if is_text else base64.b64encode(body).decode()) or None,
        "isBase64Encoded": not is_text,
    }


def _is_text(content_type: str) -> bool:
    return not content_type or content_type.startswith(("text/", "application/json", "application/x-www-form"))


def load_handler(function: str) -> Handler:
    """Import ``functions/<name>/handler.py`` as Lambda would (its own module name)."""
    path = ROOT / "functions" / function / "handler.py"
    name = f"_lambda_{function}_handler"
    if name in sys.modules:
        return sys.modules[name].handler
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.handler


def envelope(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    body = {"error": {"status": status, "code": code, "message": message}}
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


SIGV4 = "AWS4-HMAC-SHA256"


def signed(headers: dict[str, str]) -> bool:
    """A SigV4 ``Authorization`` header is present (its signature is not verified locally)."""
    return any(k.lower() == "authorization" and v.startswith(SIGV4) for k, v in headers.items())


def preflight() -> tuple[int, dict[str, str], bytes]:
    """API Gateway's CORS preflight mock (``default_cors_preflight_options`` in infra)."""
    from musicboxd.config import settings

    return (
        204,
        {
            "Access-Control-Allow-Origin": settings().cors_allow_origin,
            "Access-Control-Allow-Methods": ",".join(CORS_ALLOW_METHODS),
            "Access-Control-Allow-Headers": ",".join(CORS_ALLOW_HEADERS),
            "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS),
        },
        b"",
    )


class Gateway:
    """Routes requests to handlers: in this process, one invocation of a function at a time, or with
    ``instances`` up to that many worker processes per function (``loader`` then runs in each worker,
    so it must be a module-level function)."""

    def __init__(
        self,
        timeout_seconds: float = 10.0,
        loader: Callable[[str], Handler] = load_handler,
        *,
        instances: int | None = None,
    ):
        self.timeout = timeout_seconds
        self._loader = loader
        self._functions = sorted({r.function for r in ROUTES})
        self._pools = (
            {
                f: InstancePool(f, maximum=instances, loader=loader, timeout_seconds=timeout_seconds)
                for f in self._functions
            }
            if instances is not None
            else {}
        )
        self._handlers: dict[str, Handler] = {}
        self._in_process = {f: threading.Lock() for f in self._functions}
        self._load_lock = threading.Lock()

    def handler(self, function: str) -> Handler:
        with self._load_lock:
            if function not in self._handlers:
                self._handlers[function] = self._loader(function)
            return self._handlers[function]

    def instances(self, function: str) -> int:
        """Worker processes of ``function`` now (0 in this process)."""
        pool = self._pools.get(function)
        return pool.size() if pool is not None else 0

    def queued(self, function: str) -> tuple[int, float]:
        """(requests that waited for a free instance of ``function``, their total wait in seconds)."""
        pool = self._pools.get(function)
        return (pool.queued, pool.queued_seconds) if pool is not None else (0, 0.0)

    def stop(self) -> None:
        """Stop every worker process (and wait for them)."""
        for pool in self._pools.values():
            pool.stop()

    def invoke(self, method: str, raw_path: str, headers: dict[str, str], body: bytes, *, source_ip: str = "127.0.0.1"):
        path = urlsplit(raw_path).path
        route, params, other = match(method, path)
        if route is None:
            if method == "OPTIONS":  # deployed, every path has a resource (/{proxy+}) and its preflight
                return preflight()
            if other:
                allowed = allowed_methods(path)
                message = f"{method} is not allowed on {path}"
                return envelope(405, "method_not_allowed", message, {"Allow": ", ".join(allowed)})
            return envelope(404, "not_found", f"no route for {path}")
        if route.iam_auth and not signed(headers):
            # API Gateway's MISSING_AUTHENTICATION_TOKEN (infra GATEWAY_ERRORS).
            return envelope(401, "unauthorized", "sign the request (AWS SigV4)")
        event = build_event(
            method, raw_path, route=route, path_parameters=params, headers=headers, body=body, source_ip=source_ip
        )
        try:
            result = self._run(route.function, event)
        except Exception as exc:  # Lambda would answer 502 "Internal server error"
            print(f"handler {route.function} crashed: {exc!r}", file=sys.stderr)
            return 502, {"Content-Type": "application/json"}, b'{"message": "Internal server error"}'
        out_headers = dict(result.get("headers") or {})
        for key, values in (result.get("multiValueHeaders") or {}).items():
            out_headers[key] = ", ".join(values)
        raw = result.get("body") or ""
        data = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        return int(result.get("statusCode", 200)), out_headers, data

    def _run(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        pool = self._pools.get(function)
        if pool is not None:
            return pool.invoke(event)
        fn = self.handler(function)
        with self._in_process[function]:
            return fn(event, LambdaContext(function_name=f"musicboxd-{function}", timeout_seconds=self.timeout))


def serve(gateway: Gateway, host: str = "127.0.0.1", port: int = 3000) -> ThreadingHTTPServer:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, data = gateway.invoke(
                self.command, self.path, dict(self.headers.items()), body, source_ip=self.client_address[0]
            )
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in ("content-length", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            # Headers and body in one write: separate small writes meet Nagle + delayed ACK (~40 ms).
            self._headers_buffer.append(b"\r\n")
            payload = b"".join(self._headers_buffer) + (data if self.command != "HEAD" else b"")
            self._headers_buffer = []
            self.wfile.write(payload)

        def __getattr__(self, name: str) -> Any:  # do_GET, do_TRACE, ...: every method reaches the gateway
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

        def log_message(self, fmt: str, *args: Any) -> None:  # quiet; handlers log JSON
            pass

    server = ThreadingHTTPServer((host, port), RequestHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="apigw", daemon=True).start()
    return server
