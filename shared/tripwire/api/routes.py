"""Every HTTP route, declared once: the CDK app and the local gateway both read ``ROUTES``.

Paths use API Gateway's template syntax: ``{id}`` matches one segment, ``{proxy+}`` the
rest of the path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote


@dataclass(frozen=True)
class Route:
    method: str  # an HTTP method or "ANY"
    path: str  # API Gateway template, e.g. "/alerts/{id}/acknowledge"
    function: str  # the Lambda folder under functions/
    auth: bool = True

    @property
    def route_key(self) -> str:
        """API Gateway's routeKey, e.g. ``"GET /health"``."""
        return f"{self.method} {self.path}"

    @property
    def segments(self) -> tuple[str, ...]:
        return _split(self.path)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters (decoded) if this route serves ``method path``, else None."""
        if self.method not in ("ANY", method.upper()):
            return None
        return match_path(self.segments, _split(path))


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "health", auth=False),
    Route("GET", "/alerts/active", "alerts"),
    Route("GET", "/alerts/{id}", "alerts"),
    Route("PATCH", "/alerts/{id}/acknowledge", "alerts"),
    Route("PATCH", "/alerts/{id}/resolve", "alerts"),
    Route("POST", "/alerts/{id}/feedback", "alerts"),
    Route("POST", "/detect", "detect"),
    Route("POST", "/anomalies/{id}/verify", "verify"),
    Route("GET", "/statistics", "stats"),
    Route("GET", "/entities/{id}/series", "stats"),
    Route("GET", "/entities/{id}/profile", "stats"),
    Route("POST", "/metrics", "ingest"),
    Route("GET", "/imports", "ingest"),
    Route("GET", "/runs", "runs"),
    Route("GET", "/runs/{id}", "runs"),
    Route("GET", "/models", "runs"),
    Route("POST", "/backfill", "runs"),
    Route("GET", "/backfill/{id}", "runs"),
    Route("PUT", "/profiles/{id}/schedule", "runs"),
    Route("DELETE", "/profiles/{id}", "profiles"),
    Route("PUT", "/profiles/{id}/channels", "profiles"),
    Route("GET", "/profiles/{id}/channels", "profiles"),
    Route("POST", "/profiles/{id}/train", "runs"),
    Route("PUT", "/profiles/{id}/training", "runs"),
    Route("PUT", "/profiles/{id}/connection", "runs"),
    Route("GET", "/profiles/{id}/connection", "runs"),
    Route("DELETE", "/profiles/{id}/connection", "runs"),
    Route("GET", "/openapi.json", "docs", auth=False),
    Route("GET", "/docs", "docs", auth=False),
)

# Lambdas that no route calls: the scan pipeline, notifications, archival, the run sweeper.
WORKERS: tuple[str, ...] = (
    "scan_scheduler",
    "scan_worker",
    "notifier",
    "digest",
    "archiver",
    "learner",
    "landing",
    "stream_ingest",
    "sweeper",
    "train_scheduler",
    "train_recorder",
)


def _split(path: str) -> tuple[str, ...]:
    return tuple(segment for segment in path.split("/") if segment)


def match_path(template: tuple[str, ...], segments: tuple[str, ...]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for i, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):  # greedy: the rest, at least one
            if i >= len(segments):
                return None
            params[part[1:-2]] = unquote("/".join(segments[i:]))
            return params
        if i >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = unquote(segments[i])
        elif unquote(segments[i]) != part:
            return None
    return params if len(segments) == len(template) else None


def _specificity(route: Route) -> tuple[int, ...]:
    # API Gateway prefers literal segments over {param} over {greedy+}, left to right.
    rank = [0 if s.endswith("+}") else 1 if s.startswith("{") else 2 for s in route.segments]
    return (*rank, 1 if route.method != "ANY" else 0)


def resolve(
    method: str, path: str, routes: Iterable[Route] = ROUTES
) -> tuple[Route, dict[str, str]] | None:
    """The most specific route serving ``method path`` and its path parameters."""
    found = [(r, p) for r in routes if (p := r.match(method, path)) is not None]
    if not found:
        return None
    return max(found, key=lambda pair: _specificity(pair[0]))
