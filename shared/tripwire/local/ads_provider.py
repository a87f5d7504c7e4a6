"""A local stand-in for Amazon Ads: Login with Amazon and the v3 reporting API over HTTP.

Built to the documented contract (``ingest.ads_source`` speaks it), as moto is for AWS:

- ``POST /auth/o2/token`` (form ``grant_type=refresh_token``): a registered account's
  refresh token with its client id and secret → ``{"access_token", "token_type": "bearer",
  "expires_in": 3600, "refresh_token"}``; a revoked or unknown refresh token →
  ``400 {"error": "invalid_grant"}``; a wrong client → ``401 {"error": "invalid_client"}``.
- ``POST /reporting/reports`` (headers ``Amazon-Advertising-API-ClientId``,
  ``Amazon-Advertising-API-Scope``, ``Authorization: Bearer``): the configuration is
  checked as Amazon documents it (``spTargeting``, ``DAILY``, ``groupBy [targeting]``,
  ``GZIP_JSON``, ``date`` among the columns, at most 31 days) → ``{"reportId", "status":
  "PENDING"}``; the same request while its report is still being made → ``425`` naming
  it ("The Request is a duplicate of : <id>"). An expired or unknown access token → 401.
- ``GET /v2/profiles`` (no scope header): the account's Ads profiles (``profileId``,
  ``countryCode``, ``currencyCode``, ``timezone``, ``accountInfo``).
- ``POST /portfolios/list`` (scoped; ``application/vnd.spPortfolio.v3+json``, body
  ``maxResults`` 1–100 and ``nextToken``): ``{"portfolios": [{"portfolioId", "name",
  "state"}], "nextToken"}`` — the names a report leaves out (its rows carry only the id);
  from the book's ``portfolios(ads_profile)`` when it has one.
- ``GET /reporting/reports/{id}``: PENDING, then PROCESSING, then (after ``polls`` status
  reads) COMPLETED with ``url`` — or FAILED when ``fail_reports`` asked for it.
- ``GET {url}``: the report as gzip JSON, like the pre-signed S3 address it stands for
  (which refuses an ``Authorization`` header).
- ``POST /streams/subscriptions`` (scoped like the reports): ``dataSetId`` (``sp-traffic``
  or ``sp-conversion``), ``destinationArn`` (an SQS queue) and ``clientRequestToken`` →
  ``{"subscriptionId", "clientRequestToken"}``; the same token answers the same
  subscription. ``deliver`` then sends Marketing Stream records to the subscribed queue, one
  per message, as Amazon's publishers do; ``traffic`` and ``conversion`` write records with
  the documented fields (a restated hour is ``conversion`` again for the same cell).

The figures come from a *book* (Ads profile id, first day, last day → rows with final
figures) the caller supplies — ``tripwire.demo.ads_book`` draws a synthetic account. Like
Amazon's, the recent days are provisional: a day's ``sales7d`` / ``purchases7d`` grow with
its age against ``today`` (``MATURITY``), so a later pull restates them. ``fail`` injects
429 storms (with ``Retry-After``) and 5xx; ``expire_tokens`` makes every issued access token
stale, and ``token_uses`` makes each last that many calls (the client must refresh on a
401); ``revoke`` withdraws a refresh token.

``start`` returns the variables that point the real client at it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tripwire.domain.stream import CONVERSION, DATASETS, TRAFFIC
from tripwire.ingest.ads_source import (
    BACKOFF_ENV,
    MAX_REPORT_DAYS,
    POLL_ENV,
    PORTFOLIO_CONTENT,
    PORTFOLIOS_PATH,
    REPORT_TYPE,
    STREAM_PATH,
    TOKEN_URL_ENV,
    URL_ENV,
)
from tripwire.local.serving import serve, shut_down
from tripwire.store.provision import aws_client

HOST = "127.0.0.1"
TOKEN_PATH = "/auth/o2/token"
REPORTS_PATH = "/reporting/reports"
PROFILES_PATH = "/v2/profiles"
DOWNLOAD_PATH = "/download/"
MARKETPLACE = "ATVPDKIKX0DER"  # the US marketplace every stand-in Ads profile sells in
# The advertiser `tripwire local up` registers (its book: ``demo.ads_book``).
DEMO_CLIENT_ID = "amzn1.application-oa2-client.tripwire-demo"
DEMO_CLIENT_SECRET = "demo-client-secret"
DEMO_REFRESH_TOKEN = "Atzr|tripwire-demo-refresh-token"
DEMO_ADS_PROFILE = "1234567890"
# Share of a day's final sales and purchases reported at an age of 1, 2, 3 days.
MATURITY = {1: 0.6, 2: 0.85, 3: 0.95}

AdsBook = Callable[[str, dt.date, dt.date], list[dict[str, Any]]]
Answer = tuple[int, Any, dict[str, str]]  # status, JSON body (or bytes), extra headers


@dataclass
class Account:
    client_id: str
    client_secret: str
    ads_profiles: set[str]
    revoked: bool = False


@dataclass
class Report:
    report_id: str
    ads_profile: str
    key: str  # what makes two requests duplicates
    first: dt.date
    last: dt.date
    reads: int = 0
    status: str = "PENDING"
    failure: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)


class LocalAdsProvider:
    def __init__(self, book: AdsBook | None = None, *, port: int = 0, polls: int = 2) -> None:
        self.book: AdsBook = book or (lambda profile, first, last: [])
        self.port = port
        self.polls = polls  # status reads before a report is COMPLETED
        self.today: dt.date | None = None  # None: the real UTC date
        self.requests: list[tuple[str, str]] = []  # (method, path) in order; tests read it
        self._accounts: dict[str, Account] = {}  # refresh token -> account
        self._tokens: dict[str, str] = {}  # live access token -> refresh token
        self._uses: dict[str, int] = {}  # access token -> API calls made with it
        self.token_uses: int | None = None  # API calls a token lasts (None: an hour's worth)
        self._reports: dict[str, Report] = {}
        self._faults: list[tuple[int, int]] = []  # (status, Retry-After) for the next calls
        self._failing: list[str] = []  # failure reasons for the next reports
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Ads profile -> dataset -> (subscription id, destination ARN, request token)
        self.subscriptions: dict[str, dict[str, tuple[str, str, str]]] = {}

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Amazon Ads stand-in has not been started")
        return f"http://{HOST}:{self._server.server_address[1]}"

    def start(self) -> dict[str, str]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, answer, extra = provider.answer(
                    method, self.path, dict(self.headers.items()), body
                )
                raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                kind = (
                    "application/octet-stream" if isinstance(answer, bytes) else "application/json"
                )
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(raw)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, *_: Any) -> None:
                return

        self._server = ThreadingHTTPServer((HOST, self.port), Handler)
        self._server.daemon_threads = True
        self._thread = serve(self._server)
        return {
            URL_ENV: self.url,
            TOKEN_URL_ENV: self.url + TOKEN_PATH,
            BACKOFF_ENV: "0.01",
            POLL_ENV: "0.01",
        }

    def stop(self) -> None:
        if self._server is not None:
            shut_down(self._server, self._thread)
        self._server = self._thread = None

    # -- the advertiser's side ------------------------------------------------------------

    def account(
        self, refresh_token: str, client_id: str, client_secret: str, *ads_profiles: str
    ) -> None:
        """Register an advertiser: its refresh token opens these Ads profiles."""
        with self._lock:
            self._accounts[refresh_token] = Account(client_id, client_secret, set(ads_profiles))

    def revoke(self, refresh_token: str) -> None:
        with self._lock:
            self._accounts[refresh_token].revoked = True
            self._tokens = {a: r for a, r in self._tokens.items() if r != refresh_token}

    def expire_tokens(self) -> None:
        """Every access token issued so far is stale: the next API call answers 401."""
        with self._lock:
            self._tokens.clear()

    def fail(self, *statuses: int, retry_after: int = 0) -> None:
        """The next ``len(statuses)`` reporting calls answer these statuses."""
        with self._lock:
            self._faults += [(s, retry_after) for s in statuses]

    def fail_reports(self, *reasons: str) -> None:
        """The next reports created end FAILED with these reasons."""
        with self._lock:
            self._failing += reasons

    # -- the endpoints --------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urllib.parse.urlsplit(path)
        self.requests.append((method, parts.path))
        if method == "POST" and parts.path == TOKEN_PATH:
            return self._token(body)
        if method == "GET" and parts.path.startswith(DOWNLOAD_PATH):
            return self._download(parts.path[len(DOWNLOAD_PATH) :], headers)
        if not parts.path.startswith((REPORTS_PATH, PROFILES_PATH, STREAM_PATH, PORTFOLIOS_PATH)):
            return 404, {"code": "NOT_FOUND", "details": f"no resource {parts.path}"}, {}
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            status, wait = fault
            extra = {"Retry-After": str(wait)} if status == 429 else {}
            return status, {"code": str(status), "details": "injected failure"}, extra
        who = self._caller(headers, scoped=parts.path != PROFILES_PATH)
        if isinstance(who, tuple):
            return who
        if method == "GET" and parts.path == PROFILES_PATH:
            return self._profiles(who)
        scope = next(v for k, v in headers.items() if k.lower() == "amazon-advertising-api-scope")
        if method == "POST" and parts.path == REPORTS_PATH:
            return self._create(scope, body)
        if method == "POST" and parts.path == STREAM_PATH:
            return self._subscribe(scope, body)
        if method == "POST" and parts.path == PORTFOLIOS_PATH:
            return self._portfolios(scope, headers, body)
        if method == "GET":
            return self._status(scope, urllib.parse.unquote(parts.path[len(REPORTS_PATH) + 1 :]))
        return 405, {"code": "METHOD_NOT_ALLOWED", "details": method}, {}

    def _token(self, body: bytes) -> Answer:
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}, {}
        with self._lock:
            account = self._accounts.get(form.get("refresh_token", ""))
            if account is None or account.revoked:
                why = "The request has an invalid grant parameter : refresh_token"
                return 400, {"error": "invalid_grant", "error_description": why}, {}
            if (form.get("client_id"), form.get("client_secret")) != (
                account.client_id,
                account.client_secret,
            ):
                why = "Client authentication failed"
                return 401, {"error": "invalid_client", "error_description": why}, {}
            token = f"Atza|{uuid.uuid4().hex}"
            self._tokens[token] = form["refresh_token"]
        answer = {
            "access_token": token,
            "refresh_token": form["refresh_token"],
            "token_type": "bearer",
            "expires_in": 3600,
        }
        return 200, answer, {}

    def _profiles(self, account: Account) -> Answer:
        listed = [
            {
                "profileId": int(p) if p.isdigit() else p,
                "countryCode": "US",
                "currencyCode": "USD",
                "timezone": "America/Los_Angeles",
                "accountInfo": {
                    "type": "seller",
                    "id": advertiser_of(p),
                    "marketplaceStringId": MARKETPLACE,
                },
            }
            for p in sorted(account.ads_profiles)
        ]
        return 200, listed, {}

    def _portfolios(self, ads_profile: str, headers: dict[str, str], body: bytes) -> Answer:
        content = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if content != PORTFOLIO_CONTENT:
            return 415, {"code": "UNSUPPORTED_MEDIA_TYPE", "details": content}, {}
        try:
            asked = json.loads(body or b"{}")
            size, start = int(asked.get("maxResults", 100)), int(asked.get("nextToken") or 0)
        except (ValueError, TypeError, AttributeError):
            return 400, {"code": "BAD_REQUEST", "details": "maxResults / nextToken"}, {}
        if not 1 <= size <= 100 or start < 0:
            return 400, {"code": "BAD_REQUEST", "details": "maxResults is 1 to 100"}, {}
        names: dict[str, str] = getattr(self.book, "portfolios", lambda profile: {})(ads_profile)
        listed = [
            {"portfolioId": pid, "name": name, "state": "ENABLED"}
            for pid, name in sorted(names.items())
        ]
        page: dict[str, Any] = {"portfolios": listed[start : start + size]}
        if start + size < len(listed):
            page["nextToken"] = str(start + size)
        return 200, page, {}

    def _caller(self, headers: dict[str, str], scoped: bool = True) -> Account | Answer:
        """The caller's account, or its 401/403 (a scoped call: for its Ads profile)."""
        lower = {k.lower(): v for k, v in headers.items()}
        token = lower.get("authorization", "").removeprefix("Bearer ").strip()
        scope = lower.get("amazon-advertising-api-scope", "")
        with self._lock:
            refresh = self._tokens.get(token)
            if refresh is not None and self.token_uses is not None:
                self._uses[token] = self._uses.get(token, 0) + 1
                if self._uses[token] > self.token_uses:  # its hour is up
                    del self._tokens[token]
                    refresh = None
            account = self._accounts.get(refresh or "")
        if account is None:
            return 401, {"code": "UNAUTHORIZED", "details": "Not authorized to access scope"}, {}
        if lower.get("amazon-advertising-api-clientid") != account.client_id:
            return 401, {"code": "UNAUTHORIZED", "details": "Invalid client id"}, {}
        if scoped and scope not in account.ads_profiles:
            return 403, {"code": "FORBIDDEN", "details": f"no access to profile {scope!r}"}, {}
        return account

    def _create(self, ads_profile: str, body: bytes) -> Answer:
        try:
            request = json.loads(body)
            config = request["configuration"]
            first = dt.date.fromisoformat(request["startDate"])
            last = dt.date.fromisoformat(request["endDate"])
        except (ValueError, KeyError, TypeError) as bad:
            return 400, {"code": "400", "detail": f"bad request: {bad}"}, {}
        problem = _check(config, first, last)
        if problem:
            return 400, {"code": "400", "detail": problem}, {}
        key = json.dumps([ads_profile, config, request["startDate"], request["endDate"]])
        with self._lock:
            for report in self._reports.values():
                if report.key == key and report.status in ("PENDING", "PROCESSING"):
                    why = f"The Request is a duplicate of : {report.report_id}"
                    return 425, {"code": "425", "detail": why}, {}
            report = Report(str(uuid.uuid4()), ads_profile, key, first, last)
            if self._failing:
                report.failure = self._failing.pop(0)
            self._reports[report.report_id] = report
        return 200, {"reportId": report.report_id, "status": "PENDING"}, {}

    def _status(self, ads_profile: str, report_id: str) -> Answer:
        with self._lock:
            report = self._reports.get(report_id)
            if report is None or report.ads_profile != ads_profile:
                return 404, {"code": "NOT_FOUND", "detail": f"no report {report_id}"}, {}
            report.reads += 1
            if report.status in ("PENDING", "PROCESSING"):
                if report.reads >= self.polls:
                    report.status = "FAILED" if report.failure else "COMPLETED"
                elif report.reads >= max(1, self.polls // 2):
                    report.status = "PROCESSING"
            done = report.status == "COMPLETED" and not report.rows
        if done:  # the figures as they stand when the report is made
            report.rows = self._rows(report)
        answer: dict[str, Any] = {
            "reportId": report.report_id,
            "status": report.status,
            "startDate": report.first.isoformat(),
            "endDate": report.last.isoformat(),
            "url": None,
            "failureReason": report.failure if report.status == "FAILED" else None,
        }
        if report.status == "COMPLETED":
            answer["url"] = f"{self.url}{DOWNLOAD_PATH}{report.report_id}.json.gz"
        return 200, answer, {}

    def _download(self, name: str, headers: dict[str, str]) -> Answer:
        if any(k.lower() == "authorization" for k in headers):
            message = "Only one auth mechanism allowed"  # as S3 says to a pre-signed URL
            return 400, {"Code": "InvalidArgument", "Message": message}, {}
        report = self._reports.get(name.removesuffix(".json.gz"))
        if report is None or report.status != "COMPLETED":
            return 404, {"Code": "NoSuchKey"}, {}
        # Level 6 (gzip's own default) rather than Python's 9: a 31-day report of 1,000
        # keywords (14 MB of JSON) compresses in ~1.5 s instead of ~4 s, 9 % larger.
        return 200, gzip.compress(json.dumps(report.rows).encode(), compresslevel=6), {}

    def _rows(self, report: Report) -> list[dict[str, Any]]:
        today = self.today or dt.datetime.now(dt.UTC).date()
        rows = []
        for row in self.book(report.ads_profile, report.first, report.last):
            age = (today - dt.date.fromisoformat(row["date"])).days
            share = MATURITY.get(age, 1.0 if age > 0 else 0.0)
            restated = dict(row)
            restated["sales7d"] = round(row["sales7d"] * share, 2)
            restated["purchases7d"] = int(row["purchases7d"] * share)
            rows.append(restated)
        return rows

    # -- Marketing Stream ------------------------------------------------------------------

    def _subscribe(self, ads_profile: str, body: bytes) -> Answer:
        try:
            request = json.loads(body)
            dataset, arn = request["dataSetId"], request["destinationArn"]
            token = str(request["clientRequestToken"])
        except (ValueError, KeyError, TypeError) as bad:
            return 400, {"code": "400", "detail": f"bad request: {bad}"}, {}
        if dataset not in DATASETS:
            return 400, {"code": "400", "detail": f"dataSetId {dataset!r} is not offered"}, {}
        if not re.fullmatch(r"arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+", str(arn)):
            return 400, {"code": "400", "detail": "destinationArn must be an SQS queue ARN"}, {}
        with self._lock:
            mine = self.subscriptions.setdefault(ads_profile, {})
            found = mine.get(dataset)
            if found is None or found[2] != token:
                found = (f"amzn1.fead.cs1.{uuid.uuid4().hex}", str(arn), token)
                mine[dataset] = found
        return 200, {"subscriptionId": found[0], "clientRequestToken": token}, {}

    def deliver(self, ads_profile: str, records: list[dict[str, Any]]) -> int:
        """Send records to the queue their dataset is subscribed to, one per message (as
        delivered, duplicates included); returns how many were sent."""
        sqs = aws_client("sqs")
        sent = 0
        for dataset in DATASETS:
            mine = [r for r in records if r["dataset_id"] == dataset]
            if not mine:
                continue
            subscribed = self.subscriptions.get(ads_profile, {}).get(dataset)
            if subscribed is None:
                raise LookupError(f"Ads profile {ads_profile} has no {dataset} subscription")
            url = sqs.get_queue_url(QueueName=subscribed[1].rsplit(":", 1)[1])["QueueUrl"]
            for start in range(0, len(mine), 10):
                entries = [
                    {"Id": str(i), "MessageBody": json.dumps(r)}
                    for i, r in enumerate(mine[start : start + 10])
                ]
                sqs.send_message_batch(QueueUrl=url, Entries=entries)
                sent += len(entries)
        return sent


def advertiser_of(ads_profile: str) -> str:
    """The advertiser id the stand-in's ``accountInfo`` (and its stream records) name."""
    return f"A{ads_profile}"


def _stream_fields(
    dataset: str, ads_profile: str, hour: dt.datetime, keyword: dict[str, str]
) -> dict[str, Any]:
    return {
        "idempotency_id": str(uuid.uuid4()),
        "dataset_id": dataset,
        "marketplace_id": MARKETPLACE,
        "currency": "USD",
        "advertiser_id": advertiser_of(ads_profile),
        "campaign_id": keyword["campaign_id"],
        "ad_group_id": keyword["ad_group_id"],
        "ad_id": keyword.get("ad_id", f"ad-{keyword['keyword_id']}"),
        "keyword_id": keyword["keyword_id"],
        "placement": keyword.get("placement", "Top of Search on-Amazon"),
        "time_window_start": hour.replace(tzinfo=dt.UTC).isoformat(),
    }


def traffic(
    ads_profile: str,
    hour: dt.datetime,
    keyword: dict[str, str],
    impressions: int,
    clicks: int,
    cost: float,
) -> dict[str, Any]:
    """An ``sp-traffic`` record of one keyword-hour (``keyword``: its ids and text)."""
    return {
        **_stream_fields(TRAFFIC, ads_profile, hour, keyword),
        "keyword_text": keyword.get("keyword_text"),
        "match_type": keyword.get("match_type", "EXACT"),
        "impressions": impressions,
        "clicks": clicks,
        "cost": round(cost, 2),
    }


def conversion(
    ads_profile: str, hour: dt.datetime, keyword: dict[str, str], sales: float, orders: int
) -> dict[str, Any]:
    """An ``sp-conversion`` record: ``sales``/``orders`` at 7 days; 1 day sees 70 % of them,
    14 and 30 days the same as 7 (a stand-in's simplification, not Amazon's)."""
    fields = _stream_fields(CONVERSION, ads_profile, hour, keyword)
    for window, share in ((1, 0.7), (7, 1.0), (14, 1.0), (30, 1.0)):
        fields[f"attributed_sales_{window}d"] = round(sales * share, 2)
        fields[f"attributed_conversions_{window}d"] = int(orders * share)
        fields[f"attributed_units_ordered_{window}d"] = int(orders * share)
    return fields


def _check(config: dict[str, Any], first: dt.date, last: dt.date) -> str | None:
    """Why Amazon would refuse this ``configuration`` (None: it would not)."""
    wanted = {
        "reportTypeId": REPORT_TYPE,
        "timeUnit": "DAILY",
        "format": "GZIP_JSON",
        "adProduct": "SPONSORED_PRODUCTS",
    }
    for name, value in wanted.items():
        if config.get(name) != value:
            return f"configuration.{name} must be {value!r} here, not {config.get(name)!r}"
    if config.get("groupBy") != ["targeting"]:
        return "configuration.groupBy must be ['targeting'] for spTargeting"
    columns = config.get("columns") or []
    if "date" not in columns:
        return "configuration.columns must include 'date' for a DAILY report"
    if any(not isinstance(c, str) or not re.fullmatch(r"[A-Za-z0-9]+", c) for c in columns):
        return "configuration.columns holds an invalid column"
    if last < first or (last - first).days + 1 > MAX_REPORT_DAYS:
        return f"startDate..endDate must span 1 to {MAX_REPORT_DAYS} days"
    return None
