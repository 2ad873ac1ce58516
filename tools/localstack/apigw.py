"""API Gateway REST (v1) proxy emulation: HTTP request -> proxy event -> handler -> HTTP response.

Routes come from ``musicboxd.routes.ROUTES`` (the same table the CDK API is built from).
Like API Gateway, an unknown path or method never reaches a function: it gets the
service's error envelope (404/405) here. A function serves one request at a time, as one Lambda
instance does: its Powertools resolver (and the routers bound to it) hold the current request,
so two concurrent invocations of one app would read each other's event. Different functions run
at once. The caller's address becomes ``requestContext.identity.sourceIp``.
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
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from musicboxd.routes import ROUTES, Route

ROOT = Path(__file__).resolve().parents[2]
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as ``context`` (enough for Powertools)."""

    function_name: str
    timeout_seconds: float = 10.0
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    function_version: str = "$LATEST"
    _start: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._start)) * 1000))


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


def envelope(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = {"error": {"status": status, "code": code, "message": message}}
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


class Gateway:
    """Routes requests to handlers; one invocation of a function at a time (one instance each)."""

    def __init__(self, timeout_seconds: float = 10.0, loader: Callable[[str], Handler] = load_handler):
        self.timeout = timeout_seconds
        self._loader = loader
        self._handlers: dict[str, Handler] = {}
        self._instances = {r.function: threading.Lock() for r in ROUTES}
        self._load_lock = threading.Lock()

    def handler(self, function: str) -> Handler:
        with self._load_lock:
            if function not in self._handlers:
                self._handlers[function] = self._loader(function)
            return self._handlers[function]

    def invoke(self, method: str, raw_path: str, headers: dict[str, str], body: bytes, *, source_ip: str = "127.0.0.1"):
        path = urlsplit(raw_path).path
        route, params, other = match(method, path)
        if route is None:
            if other:
                return envelope(405, "method_not_allowed", f"{method} is not allowed on {path}")
            return envelope(404, "not_found", f"no route for {path}")
        event = build_event(
            method, raw_path, route=route, path_parameters=params, headers=headers, body=body, source_ip=source_ip
        )
        fn = self.handler(route.function)
        with self._instances[route.function]:
            context = LambdaContext(function_name=f"musicboxd-{route.function}", timeout_seconds=self.timeout)
            try:
                result = fn(event, context)
            except Exception as exc:  # Lambda would answer 502 "Internal server error"
                print(f"handler {route.function} crashed: {exc!r}", file=sys.stderr)
                return 502, {"Content-Type": "application/json"}, b'{"message": "Internal server error"}'
        out_headers = dict(result.get("headers") or {})
        for key, values in (result.get("multiValueHeaders") or {}).items():
            out_headers[key] = ", ".join(values)
        raw = result.get("body") or ""
        data = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        return int(result.get("statusCode", 200)), out_headers, data


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

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

        def log_message(self, fmt: str, *args: Any) -> None:  # quiet; handlers log JSON
            pass

    server = ThreadingHTTPServer((host, port), RequestHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="apigw", daemon=True).start()
    return server
