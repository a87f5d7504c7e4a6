"""The dashboard in a real browser against the local stack: the spec of what a person sees.

Tests run at desktop size (1280×800); the pages a person reads or acts on also at phone
width (390 px). Every test ends with no errors on the page's console (``page`` checks).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import defaultdict
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.conftest import VIEWPORTS, Console, Demo, screenshot
from tripwire.domain import Alert, Severity
from tripwire.store.alerts import AlertStore
from tripwire.store.feedback import FeedbackStore

# One demo stack serves them all: with `pytest -n N --dist loadgroup` they share a worker.
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("browser")]
BOTH_SIZES = pytest.mark.parametrize("page", list(VIEWPORTS), indirect=True)


def groups(alerts: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for alert in alerts:
        found[alert["group_id"] or alert["alert_id"]].append(alert)
    return found


def group_of(demo: Demo, cause: str, period: str) -> list[dict[str, Any]]:
    """The seeded alerts of the incident traced to ``cause`` on ``period``."""
    for members in groups(demo.alerts("acme")).values():
        if any(a["cause"] == cause and a["period"] == period for a in members):
            return sorted(members, key=lambda a: a["alert_id"])
    raise AssertionError(f"no incident traced to {cause} on {period} was seeded")


def sign_in(page: Page, demo: Demo, tenant: str = "acme", route: str = "") -> None:
    """Open the app signed in as ana of ``tenant`` (token in the fragment), then ``route``."""
    page.goto(demo.signed_in_url(tenant))
    expect(page.locator("#who .user")).to_have_attribute("data-tenant", tenant)
    if route:
        page.goto(f"{demo.app_url}#{route}")


def open_app(page: Page, demo: Demo, tenant: str) -> None:
    sign_in(page, demo, tenant)
    expect(page.locator(".feed > *").first).to_be_visible()


def open_feed(page: Page, demo: Demo, tenant: str = "acme") -> None:
    sign_in(page, demo, tenant)
    expect(page.locator("a.alert-row").first).to_be_visible()


def stack_dynamodb(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A DynamoDB client on the demo stack's moto server, its table names in the env."""
    env = demo.env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL"])


def fits_the_screen(page: Page) -> bool:
    width = page.evaluate("document.documentElement.scrollWidth")
    return bool(width <= (page.viewport_size or {"width": 0})["width"] + 1)


@BOTH_SIZES
def test_the_feed_lists_the_planted_incidents(page: Page, demo: Demo) -> None:
    open_feed(page, demo)
    rows = page.locator("a.alert-row")
    # Every planted incident that was scanned is a row traced to its root, showing a day
    # of the incident (a row shows its group's newest period).
    for incident in demo.incidents():
        if incident["kind"] != "campaign_paused":
            continue
        traced = rows.and_(page.locator(f"[data-cause='{incident['root_entity']}']"))
        expect(traced.first).to_be_visible()
        expect(traced.first).to_contain_text(incident["root_entity"])
        periods = [t.split(" · ")[0] for t in traced.locator(".row-meta").all_inner_texts()]
        assert any(incident["start"] <= p <= incident["end"] for p in periods), periods
    # One row per incident group the API holds, costliest first, then newest period first.
    status, active = demo.api("acme", "GET", "/alerts/active?profile_id=A1&limit=200")
    assert status == 200
    expect(rows).to_have_count(len(groups(active["items"])))
    periods = [text.split(" · ")[0] for text in rows.locator(".row-meta").all_inner_texts()]
    costs = [float(r.get_attribute("data-impact") or 0) for r in rows.all()]
    order = list(
        zip(
            [-c for c in costs],
            [-datetime.fromisoformat(p).toordinal() for p in periods],
            strict=True,
        )
    )
    assert order == sorted(order)
    # Counts per severity (from /statistics) add up to the active alerts.
    counts = page.locator(".count[data-severity]")
    expect(counts).to_have_count(4)
    shown = {
        c.get_attribute("data-severity"): int(c.get_attribute("data-count") or 0)
        for c in counts.all()
    }
    by_severity: dict[str, int] = defaultdict(int)
    for alert in active["items"]:
        by_severity[alert["severity"]] += 1
    assert shown == {s: by_severity[s] for s in ("critical", "high", "medium", "low")}
    assert fits_the_screen(page)
    screenshot(page, "feed")


def test_the_feed_shows_new_alerts_on_its_own(
    page: Page, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    page.clock.install()  # the page's refresh timer runs on a clock the test moves
    open_app(page, demo, "initech")
    expect(page.locator(".feed .empty")).to_have_text("No active alerts. All quiet.")
    raised = Alert(
        alert_id="initech-1",
        tenant_id="initech",
        profile_id="A1",
        entity_id="K3",
        entity_type="keyword",
        period=datetime(2026, 1, 2),
        score=0.999999,
        threshold=0.9999,
        severity=Severity.CRITICAL,
        run_id="initech-run",
        created_at=datetime(2026, 1, 3, 6, 0),
    )
    AlertStore(stack_dynamodb(demo, monkeypatch)).put_many([raised])
    page.clock.fast_forward("00:31")  # past the 30 s refresh interval
    row = page.locator("a.alert-row")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-severity", "critical")
    expect(page.locator(".count[data-severity=critical]")).to_have_attribute("data-count", "1")


def test_the_feed_filters_by_severity_and_entity_type(page: Page, demo: Demo) -> None:
    open_feed(page, demo)
    rows = page.locator("a.alert-row")
    page.select_option("select[name=severity]", "high")
    _, high = demo.api("acme", "GET", "/alerts/active?profile_id=A1&severity=high&limit=200")
    expected = len(groups(high["items"]))
    expect(rows).to_have_count(expected)
    expect(rows.locator(".sev")).to_have_text(["high"] * expected)
    page.select_option("select[name=severity]", "")
    page.select_option("select[name=entity_type]", "campaign")
    _, campaigns = demo.api("acme", "GET", "/alerts/active?profile_id=A1&entity_type=campaign")
    expected = len(groups(campaigns["items"]))
    expect(rows).to_have_count(expected)
    expect(rows.locator(".entity")).to_contain_text(["campaign"] * expected)
    assert "entity_type=campaign" in page.url  # the filtered feed can be linked to


def test_the_feed_and_the_alert_view_show_names_and_impact_costliest_first(
    page: Page, demo: Demo
) -> None:
    incident = next(i for i in demo.incidents() if i["kind"] == "campaign_paused")
    root = incident["root_entity"]
    _, active = demo.api("acme", "GET", "/alerts/active?profile_id=A1&limit=200")
    own = [a for a in active["items"] if a["entity_id"] == root]
    assert own and own[0]["entity_name"], "the paused campaign's alert carries its name"
    name, impact = own[0]["entity_name"], own[0]["impact"]
    assert impact["currency"] == "USD" and impact["sales_at_risk"] > 0
    open_feed(page, demo)
    rows = page.locator("a.alert-row")
    costs = [float(r.get_attribute("data-impact") or 0) for r in rows.all()]
    assert costs == sorted(costs, reverse=True) and costs[0] > 0
    row = rows.and_(page.locator(f"[data-entity='{root}']")).first
    expect(row.locator(".entity")).to_have_text(f"campaign '{name}' ({root})")
    expect(row.locator(".impact")).to_contain_text(re.compile(r"sales at risk \$[\d,]+"))
    row.click()
    expect(page.locator(".alert-head h1")).to_contain_text(f"campaign '{name}' ({root})")
    facts = page.locator(".alert-head dl.facts")
    expect(facts).to_contain_text(re.compile(r"Impact.*sales at risk \$[\d,]+"))
    expect(facts).to_contain_text("Degradation")


@BOTH_SIZES
def test_the_alert_view_shows_the_anomaly_on_the_chart_and_the_root_cause(
    page: Page, demo: Demo
) -> None:
    incident = next(i for i in demo.incidents() if i["kind"] == "campaign_paused")
    members = group_of(demo, incident["root_entity"], incident["start"])
    alert = next(a for a in members if a["entity_type"] == "keyword" and a["explained"])
    sign_in(page, demo, "acme", f"/alerts/{alert['alert_id']}")
    expect(page.locator(".alert-head h1")).to_contain_text(alert["entity_id"])

    # One chart per metric the explanation names (up to four), the alert's period marked.
    charts = page.locator("section[aria-label=metrics] .chart")
    expect(charts).to_have_count(min(4, len(alert["explained"])))
    for chart in charts.all():
        assert chart.get_attribute("data-metric") in alert["explained"]
        expect(chart).to_have_attribute("data-marked", re.compile(rf"\b{alert['period']}\b"))
        expect(chart.locator("canvas")).to_be_visible()
    # The explanation: a bar per attribution, with expected and actual values.
    bars = page.locator(".attributions li")
    expect(bars).to_have_count(len(alert["explained"]))
    expect(bars.first).to_contain_text("expected")
    expect(bars.first).to_contain_text("actual")
    # The root cause: the keyword, its ancestors up to the account, the campaign highlighted.
    graph = page.locator("svg.rootcause")
    expect(graph.locator("g.culprit")).to_have_attribute("data-entity", incident["root_entity"])
    for entity in (alert["entity_id"], incident["root_entity"], "A1"):
        expect(graph.locator(f"g.node[data-entity='{entity}']")).to_have_count(1)
    expect(page.locator(".affected")).to_have_attribute("data-affected", str(len(members)))
    expect(page.locator("table.history tbody tr")).to_have_count(1)  # raised, nothing since
    # Where its group was announced: the local Slack took it on the first attempt.
    delivered = page.locator("table.deliveries tbody tr")
    expect(delivered).to_have_count(1)
    expect(delivered.first).to_have_attribute("data-channel", "slack")
    expect(delivered.first).to_have_attribute("data-status", "sent")
    expect(delivered.first.locator("td").nth(3)).to_have_text("1")  # attempts
    assert fits_the_screen(page)
    path = screenshot(page, "alert-view")
    assert path.stat().st_size > 10_000


@BOTH_SIZES
def test_acknowledging_and_resolving_change_the_alert_through_the_api(
    page: Page, demo: Demo
) -> None:
    incident = [i for i in demo.incidents() if i["kind"] == "campaign_paused"][-1]
    members = group_of(demo, incident["root_entity"], incident["start"])
    # Each viewport works on its own alert of the group, so the two runs do not meet.
    alert = members[1 if page.viewport_size and page.viewport_size["width"] < 600 else 2]
    path = f"/alerts/{alert['alert_id']}"
    sign_in(page, demo, "acme", path)
    head = page.locator(".alert-head")
    expect(head.locator(".status")).to_have_text("open")

    page.click("button[name=acknowledge]")
    expect(head.locator(".status")).to_have_text("acknowledged")
    expect(page.locator("button[name=acknowledge]")).to_be_disabled()
    status, stored = demo.api("acme", "GET", path)
    assert status == 200 and stored["status"] == "acknowledged"
    assert stored["acknowledged_by"] == "ana"

    page.click("button[name=resolve]")  # notes are required: nothing is sent without
    expect(page.locator(".said")).to_contain_text("notes are required")
    page.fill("textarea[name=notes]", "campaign re-enabled")
    page.click("button[name=resolve]")
    expect(head.locator(".status")).to_have_text("resolved")
    expect(head).to_contain_text("campaign re-enabled")
    history = page.locator("table.history tbody tr")
    expect(history).to_have_count(3)
    expect(history.nth(2)).to_contain_text("ana")
    status, stored = demo.api("acme", "GET", path)
    assert status == 200 and stored["status"] == "resolved"
    assert stored["resolution_notes"] == "campaign re-enabled"
    assert [h["status"] for h in stored["history"]] == ["acknowledged", "resolved"]
    # Gone from the feed.
    page.goto(f"{demo.app_url}#/alerts")
    expect(page.locator("a.alert-row").first).to_be_visible()
    expect(page.locator(f"a.alert-row[data-alert-id='{alert['alert_id']}']")).to_have_count(0)
    _, active = demo.api("acme", "GET", "/alerts/active?profile_id=A1&limit=200")
    assert alert["alert_id"] not in {a["alert_id"] for a in active["items"]}


def test_not_an_anomaly_feedback_is_shown_and_stored(
    page: Page, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert = group_of(demo, "A1-C04", "2026-03-10")[-1]
    sign_in(page, demo, "acme", f"/alerts/{alert['alert_id']}")
    page.fill("input[name=feedback-note]", "planned promotion")
    page.click("button[name=not-anomaly]")
    label = page.locator(".labelled [data-feedback]")
    expect(label).to_have_attribute("data-feedback", "not-anomaly")
    expect(label).to_contain_text("planned promotion")
    # Stored as a label for the next training run (read back from the stack's DynamoDB).
    stored = FeedbackStore(stack_dynamodb(demo, monkeypatch)).get("acme", "A1", alert["alert_id"])
    assert stored is not None and (stored.is_anomaly, stored.note) == (False, "planned promotion")
    assert stored.by == "ana"


def test_a_tenant_sees_only_its_own_alerts(page: Page, demo: Demo, console: Console) -> None:
    open_feed(page, demo, "globex")
    rows = page.locator("a.alert-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-group", "globex-group")
    expect(page.locator("#who")).to_contain_text("globex")
    assert not any(
        e.startswith("A1-") for e in rows.evaluate_all("rows => rows.map(r => r.dataset.entity)")
    )
    counts = [int(c.get_attribute("data-count") or 0) for c in page.locator(".count").all()]
    assert sum(counts) == len(demo.alerts("globex"))
    # Another tenant's alert, even by its id, is not there.
    console.allow(r"status of 404")
    theirs = demo.alerts("acme")[0]["alert_id"]
    page.goto(f"{demo.app_url}#/alerts/{theirs}")
    expect(page.locator(".problem")).to_have_text("No such alert in your account.")
    # And the first tenant does not see the second's.
    open_feed(page, demo, "acme")
    expect(page.locator("a.alert-row[data-group='globex-group']")).to_have_count(0)
    expect(page.locator("#who")).to_contain_text("acme")


@BOTH_SIZES
def test_statistics_show_the_trend_resolution_times_and_top_entities(
    page: Page, demo: Demo
) -> None:
    sign_in(page, demo, "acme", "/stats")
    chart = page.locator(".chart.daily")
    expect(chart.locator("canvas")).to_be_visible()
    expect(chart).to_have_attribute("data-raised", str(len(demo.alerts("acme"))))
    expect(page.locator(".tile[data-tile=mttr]")).to_be_visible()
    expect(page.locator(".tile[data-tile=mtta]")).to_be_visible()
    top = page.locator(".top-entities li")
    expect(top.first).to_be_visible()
    start, end = page.input_value("input[name=from]"), page.input_value("input[name=to]")
    _, stats = demo.api("acme", "GET", f"/statistics?profile_id=A1&from={start}&to={end}")
    expect(top).to_have_count(len(stats["top_entities"]))
    expect(top.first).to_have_attribute("data-entity", stats["top_entities"][0]["entity_id"])
    assert fits_the_screen(page)
    screenshot(page, "statistics")


@BOTH_SIZES
def test_runs_list_the_scans_with_their_counts(page: Page, demo: Demo) -> None:
    sign_in(page, demo, "acme", "/runs")
    rows = page.locator("table.runs tbody tr")
    scanned_days = {i["start"] for i in demo.incidents()}
    expect(rows).to_have_count(len(scanned_days))
    for row in rows.all():
        expect(row).to_contain_text("complete")
    rows.first.locator("a").click()
    expect(page.locator("h1")).to_contain_text("Run run-")
    expect(page.locator(".versions li").first).to_be_visible()


def test_signing_in_by_pasting_a_token(page: Page, demo: Demo) -> None:
    page.goto(demo.app_url)
    form = page.locator("form.signin")
    expect(form).to_be_visible()
    form.locator("textarea[name=token]").fill("not a token")
    form.locator("button[type=submit]").click()
    expect(form.locator(".problem")).to_contain_text("not a token")
    form.locator("textarea[name=token]").fill(demo.token("acme", "bea"))
    form.locator("input[name=profile]").fill("A1")
    form.locator("button[type=submit]").click()
    expect(page.locator("a.alert-row").first).to_be_visible()
    expect(page.locator("#who")).to_contain_text("bea · acme")
    page.click("text=Sign out")
    expect(page.locator("form.signin")).to_be_visible()


def test_signing_in_through_cognito_uses_the_code_flow_with_pkce(
    browser: Browser, demo: Demo, console: Console
) -> None:
    """In AWS the page signs in through Cognito's hosted UI; here the hosted UI and its
    token endpoint are stood in for at the network layer, the rest is the real page."""
    domain = "https://tripwire-test.auth.eu-west-1.amazoncognito.com"
    config = {"apiUrl": "", "auth": "cognito", "cognito": {"domain": domain, "clientId": "c1"}}
    # The local page's CSP allows only its own origin; a deployment's allows Cognito's.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.on("console", console.record)
    seen: dict[str, Any] = {}

    def hosted_ui(route: Route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        seen["authorize"] = {k: v[0] for k, v in query.items()}
        back = f"{query['redirect_uri'][0]}?code=the-code&state={query['state'][0]}"
        route.fulfill(status=302, headers={"location": back})

    def token_endpoint(route: Route) -> None:
        seen["token"] = {k: v[0] for k, v in parse_qs(route.request.post_data or "").items()}
        body = {"id_token": demo.token("acme", "cara"), "access_token": "x", "expires_in": 3600}
        route.fulfill(json=body, headers={"access-control-allow-origin": "*"})

    page.route("**/app/config.json", lambda route: route.fulfill(json=config))
    page.route(f"{domain}/oauth2/authorize*", hosted_ui)
    page.route(f"{domain}/oauth2/token", token_endpoint)
    try:
        page.goto(demo.app_url)
        page.click("text=Sign in with your organisation")
        expect(page.locator("#who")).to_contain_text("cara · acme")
        authorize, token = seen["authorize"], seen["token"]
        assert authorize["response_type"] == "code" and authorize["client_id"] == "c1"
        assert authorize["code_challenge_method"] == "S256"
        assert token["grant_type"] == "authorization_code" and token["code"] == "the-code"
        digest = hashlib.sha256(token["code_verifier"].encode()).digest()
        assert (
            base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == (authorize["code_challenge"])
        )
        assert "code=" not in page.url  # the code does not stay in the address bar
        page.fill("#profile", "A1")
        page.press("#profile", "Enter")
        expect(page.locator("a.alert-row").first).to_be_visible()  # the id token works
    finally:
        context.close()
    assert console.unexpected() == []
