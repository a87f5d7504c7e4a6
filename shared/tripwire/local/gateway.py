"""A local API Gateway (HTTP API, payload v2.0): HTTP requests become the events AWS builds.

Handlers are the real ``functions/<name>/handler.py`` modules, loaded by file path.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import mimetypes
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import tripwire
from tripwire.api.routes import ROUTES, Route, resolve
from tripwire.local.auth import AuthError, bearer_token, verify
from tripwire.local.serving import serve

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
ACCOUNT_ID = "123456789012"  # moto's default account
Handler = Callable[[dict[str, Any], Any], Any]
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def functions_root() -> Path:
    """``functions/`` beside ``shared/`` in the checkout that holds the installed package."""
    return Path(tripwire.__file__).resolve().parent.parent.parent / "functions"


def web_root() -> Path:
    """``web/`` (the dashboard) beside ``shared/`` in the same checkout."""
    return Path(tripwire.__file__).resolve().parent.parent.parent / "web"


# Powertools keeps the current event on a class that every resolver in the process shares
# (BaseRouter.current_event): two handler calls at once would read each other's request,
# the caller's tenant included. A Lambda container serves one request at a time; so does
# this process (requests still arrive, parse and authorize in parallel).
_ONE_AT_A_TIME = threading.Lock()

APP_PREFIX = "/app/"  # the dashboard's static files; no API route starts with it
# What the page may load and call: itself only (the API is the same origin locally).
APP_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
}


@dataclass
class Request:
    method: str
    raw_path: str
    raw_query: str = ""
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def message(cls, status: int, text: str) -> Response:
        body = json.dumps({"message": text}).encode()
        return cls(status, [("content-type", "application/json")], body)


@dataclass
class LambdaContext:
    """What the Lambda runtime hands a handler (the parts Powertools reads)."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    timeout_ms: int = 29_000  # API Gateway's integration timeout
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.timeout_ms - int((time.monotonic() - self.started) * 1000))


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    # API Gateway v2 joins repeated headers and query parameters with commas.
    out: dict[str, str] = {}
    for name, value in pairs:
        out[name] = f"{out[name]},{value}" if name in out else value
    return out


def _claim_text(value: Any) -> str:
    # The JWT authorizer hands claims to the function as strings.
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    return str(value)


def build_event(
    request: Request,
    route: Route,
    path_parameters: dict[str, str],
    claims: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API v2.0 event for ``request`` matched to ``route``."""
    pairs = [(name.lower(), value) for name, value in request.headers]
    cookies = [c.strip() for n, v in pairs if n == "cookie" for c in v.split(";") if c.strip()]
    headers = _joined((n, v) for n, v in pairs if n != "cookie")
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-port", headers.get("host", "").partition(":")[2] or "80")
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}")
    now = time.time()
    host = headers.get("host", "localhost").split(":")[0]
    request_id = base64.b64encode(secrets.token_bytes(10)).decode()
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "domainName": host,
        "domainPrefix": host.split(".")[0],
        "http": {
            "method": request.method,
            "path": unquote(request.raw_path),
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        scope = claims.get("scope")
        context["authorizer"] = {
            "jwt": {
                "claims": {k: _claim_text(v) for k, v in claims.items()},
                "scopes": str(scope).split() if scope else None,
            }
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        # API Gateway's HTTP API hands the path on decoded, so the function's router
        # matches (and passes on) ids as the client meant them.
        "rawPath": unquote(request.raw_path),
        "rawQueryString": request.raw_query,
        "headers": headers,
    }
    if cookies:
        event["cookies"] = cookies
    query = parse_qsl(request.raw_query, keep_blank_values=True)
    if query:
        event["queryStringParameters"] = _joined(query)
    event["requestContext"] = context
    if path_parameters:
        event["pathParameters"] = path_parameters
    event["isBase64Encoded"] = False
    if request.body:
        event["body"], event["isBase64Encoded"] = _body(request.body, headers.get("content-type"))
    return event


def _body(raw: bytes, content_type: str | None) -> tuple[str, bool]:
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind.startswith(TEXT_TYPES) or kind.endswith(("+json", "+xml")):
        try:
            return raw.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(raw).decode(), True


def to_response(result: Any) -> Response:
    """What API Gateway sends back for a v2.0 function result."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # No statusCode: the whole result is the JSON body of a 200.
        return Response(200, [("content-type", "application/json")], json.dumps(result).encode())
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    headers += [("set-cookie", str(c)) for c in result.get("cookies") or ()]
    body = result.get("body") or ""
    if not isinstance(body, str):
        raise TypeError(f"response body must be a string, got {type(body).__name__}")
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return Response(int(result["statusCode"]), headers, data)


class Gateway:
    """Serves ``routes`` on ``host:port`` (0 picks a free port) until stopped."""

    def __init__(
        self,
        routes: Sequence[Route] = ROUTES,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        functions_dir: Path | None = None,
        auth_dir: Path | None = None,
        web_dir: Path | None = None,
    ) -> None:
        self.routes = tuple(routes)
        self.host = host
        self.functions_dir = functions_dir or functions_root()
        self.auth_dir = auth_dir
        self.web_dir = (web_dir or web_root()).resolve()
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._server = _Server((host, port), _RequestHandler)
        self._server.gateway = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def app_url(self) -> str:
        """Where the dashboard is served; ``#token=…`` after it signs the page in."""
        return f"{self.url}{APP_PREFIX}"

    def start(self) -> Gateway:
        self._thread = serve(self._server)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()  # joins the request threads still running

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def handler(self, function: str) -> Handler:
        """``functions/<function>/handler.py``'s ``handler``, imported once."""
        with self._lock:
            if function not in self._handlers:
                path = self.functions_dir / function / "handler.py"
                name = f"_tripwire_functions.{function}.handler"
                spec = importlib.util.spec_from_file_location(name, path)
                if spec is None or spec.loader is None:
                    raise ImportError(f"cannot load {path}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module  # dataclasses and pickle look modules up here
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[name]
                    raise
                self._handlers[function] = module.handler
            return self._handlers[function]

    def handle(self, request: Request) -> Response:
        """One request through routing, the JWT authorizer and the function."""
        if len(request.body) > MAX_BODY:
            return Response.message(413, "Request Entity Too Large")
        static = self.static(request)
        if static is not None:
            return static
        # Segments are decoded once each, after splitting: an encoded '/' stays in its id.
        found = resolve(request.method, request.raw_path, self.routes)
        if found is None:
            allowed = sorted(
                {r.method for r in self.routes if r.match(r.method, request.raw_path) is not None}
            )
            if allowed:
                answer = Response.message(405, "Method Not Allowed")
                answer.headers.append(("allow", ", ".join(allowed)))
                return answer
            return Response.message(404, "Not Found")
        route, params = found
        claims = None
        if route.auth:
            authorization = next(
                (v for n, v in request.headers if n.lower() == "authorization"), None
            )
            try:
                claims = verify(bearer_token(authorization), directory=self.auth_dir)
            except AuthError:
                return Response.message(401, "Unauthorized")
        event = build_event(request, route, params, claims)
        with _ONE_AT_A_TIME:
            context = LambdaContext(route.function, event["requestContext"]["requestId"])
            try:
                response = to_response(self.handler(route.function)(event, context))
            except Exception:
                sys.stderr.write(f"{route.route_key} -> {route.function} failed:\n")
                traceback.print_exc(file=sys.stderr)
                return Response.message(500, "Internal Server Error")
        response.headers.append(("apigw-requestid", context.aws_request_id))
        return response

    def static(self, request: Request) -> Response | None:
        """The dashboard's files under ``/app/`` (and ``/`` sends a browser there)."""
        path = unquote(request.raw_path)
        if request.method not in ("GET", "HEAD") or not (
            path == "/" or path.startswith(APP_PREFIX) or path == APP_PREFIX.rstrip("/")
        ):
            return None
        if not path.startswith(APP_PREFIX):
            return Response(302, [("location", APP_PREFIX)])
        name = path[len(APP_PREFIX) :] or "index.html"
        if name == "config.json":
            # Locally the API is this origin and tokens come from `tripwire local token`;
            # a deployment writes its own config.json (API URL, Cognito) beside the files.
            return _static_response(json.dumps({"apiUrl": "", "auth": "local"}).encode(), name)
        file = (self.web_dir / name).resolve()
        if not file.is_relative_to(self.web_dir) or not file.is_file():
            return Response.message(404, "Not Found")
        return _static_response(file.read_bytes(), name)


def _static_response(body: bytes, name: str) -> Response:
    suffix = Path(name).suffix.lower()
    kind = STATIC_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers = [
        ("content-type", kind),
        ("cache-control", "no-cache"),  # revalidate: a new checkout shows at once
        ("x-content-type-options", "nosniff"),
    ]
    if suffix == ".html":
        headers += [("content-security-policy", APP_CSP), ("referrer-policy", "no-referrer")]
    return Response(200, headers, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() waits for requests in flight
    block_on_close = True
    gateway: Gateway


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 30  # a stalled client must not hold up stop()

    def _serve(self) -> None:
        started = time.perf_counter()
        raw_path, _, raw_query = self.path.partition("?")
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            response = Response.message(400, "Bad Request")
            self.close_connection = True
        elif length > MAX_BODY:
            response = Response.message(413, "Request Entity Too Large")
            self.close_connection = True
        else:
            request = Request(
                method=self.command,
                raw_path=raw_path,
                raw_query=raw_query,
                headers=list(self.headers.items()),
                body=self.rfile.read(length) if length else b"",
                source_ip=self.client_address[0],
                protocol=self.request_version,
            )
            response = self.server.gateway.handle(request)
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        ms = (time.perf_counter() - started) * 1000
        sys.stderr.write(f"[gateway] {self.command} {raw_path} {response.status} {ms:.1f}ms\n")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def __getattr__(self, name: str) -> Any:
        # Every other method (TRACE, CONNECT, made-up ones) gets a JSON answer from the
        # routes too, instead of http.server's HTML 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # _serve logs one line per request instead
