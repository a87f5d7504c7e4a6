"""The route table and its API Gateway-style path matcher."""

from __future__ import annotations

from tripwire.api.routes import ROUTES, Route, resolve

ACK = Route("POST", "/alerts/{id}/acknowledge", "alerts")


def test_param_segment_matches_and_extracts() -> None:
    assert ACK.match("POST", "/alerts/a1/acknowledge") == {"id": "a1"}
    assert ACK.match("post", "/alerts/a%2F1/acknowledge/") == {"id": "a/1"}


def test_no_false_matches() -> None:
    for method, path in (
        ("GET", "/alerts/a1/acknowledge"),
        ("POST", "/alerts/a1"),
        ("POST", "/alerts//acknowledge"),
        ("POST", "/alerts/a1/acknowledge/more"),
        ("POST", "/alerts/a1/resolve"),
        ("POST", "/alert/a1/acknowledge"),
        ("POST", "/"),
    ):
        assert ACK.match(method, path) is None, (method, path)


def test_literal_route_beats_param_and_greedy() -> None:
    routes = (
        Route("ANY", "/alerts/{proxy+}", "fallback"),
        Route("GET", "/alerts/{id}", "alert"),
        Route("GET", "/alerts/active", "active"),
    )
    found = resolve("GET", "/alerts/active", routes)
    assert found is not None and found[0].function == "active"
    found = resolve("GET", "/alerts/x1", routes)
    assert found == (routes[1], {"id": "x1"})
    found = resolve("DELETE", "/alerts/x1/y", routes)
    assert found == (routes[0], {"proxy": "x1/y"})
    assert resolve("GET", "/alerts", routes) is None


def test_declared_routes() -> None:
    assert Route("GET", "/health", "health", auth=False) in ROUTES
    assert len({r.route_key for r in ROUTES}) == len(ROUTES)
    assert resolve("GET", "/health") == (ROUTES[0], {})
    assert resolve("GET", "/nope") is None


def test_alert_routes_are_declared_for_the_alerts_function() -> None:
    found = resolve("GET", "/alerts/active")
    assert found is not None and found[0].path == "/alerts/active" and found[0].auth
    assert resolve("PATCH", "/alerts/a1/resolve") == (
        Route("PATCH", "/alerts/{id}/resolve", "alerts"),
        {"id": "a1"},
    )
    alerts = [r for r in ROUTES if r.path.startswith("/alerts")]
    assert len(alerts) == 5 and all(r.function == "alerts" and r.auth for r in alerts)
