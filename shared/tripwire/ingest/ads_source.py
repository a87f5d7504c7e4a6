"""The Amazon Ads API as a data source: daily Sponsored Products targeting reports, fetched.

The documented contract, spoken with the standard library only (README "Amazon Ads API":
python-amazon-ad-api was measured and not used):

1. **Login with Amazon.** ``POST {token_url}`` (form ``grant_type=refresh_token``,
   ``refresh_token``, ``client_id``, ``client_secret``) → ``access_token`` (an hour).
   ``400 {"error": "invalid_grant"}`` is a revoked or expired refresh token: ``Revoked``,
   never retried; ``invalid_client`` is a wrong client id or secret: ``BadClient``.
2. **Create the report.** ``POST {api_url}/reporting/reports`` with the headers
   ``Amazon-Advertising-API-ClientId``, ``Amazon-Advertising-API-Scope`` (the Ads profile id)
   and ``Authorization: Bearer``, content type ``application/vnd.createasyncreportrequest.v3+json``
   and the configuration ``spTargeting`` · ``DAILY`` · ``groupBy [targeting]`` · ``GZIP_JSON``
   with ``COLUMNS`` → ``reportId``. A ``425`` says the same request is already queued and
   names its id ("duplicate of : <id>"): that report is the one waited for, so a retried sync
   never queues a second one.
3. **Poll** ``GET /reporting/reports/{reportId}`` (PENDING → PROCESSING → COMPLETED with
   ``url``, or FAILED with ``failureReason``) at ``poll`` seconds, doubling up to
   ``MAX_POLL``; after ``poll_budget`` seconds it gives up with ``ReportPending`` (the
   message is retried later and step 2 finds the same report again).
4. **Download** the ``url`` (a pre-signed S3 address: no Amazon headers sent) — gzip JSON.
5. **Marketing Stream.** ``POST {api_url}/streams/subscriptions`` (content type
   ``STREAM_CONTENT``) with ``dataSetId`` (``sp-traffic``, ``sp-conversion``),
   ``destinationArn`` (the SQS queue Amazon delivers the hourly records to) and
   ``clientRequestToken`` (the same token never makes a second subscription) →
   ``subscriptionId``.

Every call: a 401 refreshes the access token and retries once; 429 and 5xx (and no answer)
are retried with exponential backoff from ``backoff`` seconds (``TRIPWIRE_ADS_BACKOFF``),
``Retry-After`` honoured, up to ``attempts`` tries, then ``RateLimited`` / ``Unavailable``.
All the client's waiting — polls and backoff together — is bounded by ``budget`` seconds
(``BUDGET``: well inside the worker's 5-minute timeout); past it, the error is raised early
and the queue's redelivery takes over the waiting.
Secrets never appear in an error message or a log line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from tripwire.domain.connections import AdsRegion

URL_ENV = "TRIPWIRE_ADS_API_URL"
TOKEN_URL_ENV = "TRIPWIRE_ADS_TOKEN_URL"
BACKOFF_ENV = "TRIPWIRE_ADS_BACKOFF"
POLL_ENV = "TRIPWIRE_ADS_POLL"  # first poll interval, seconds
DEFAULT_URL = "https://advertising-api.amazon.com"
DEFAULT_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
REPORT_TYPE = "spTargeting"
REPORT_CONTENT = "application/vnd.createasyncreportrequest.v3+json"
MAX_REPORT_DAYS = 31  # spTargeting's longest date range per report
PORTFOLIOS_PATH = "/portfolios/list"  # v3; reports carry a portfolio's id, not its name
PORTFOLIO_CONTENT = "application/vnd.spPortfolio.v3+json"
STREAM_PATH = "/streams/subscriptions"
STREAM_CONTENT = "application/vnd.MarketingStreamSubscriptions.StreamSubscriptionResource.v1.0+json"
# What the import reads (ingest.ads_api) plus names; ``date`` makes DAILY rows datable.
COLUMNS = (
    "date",
    "portfolioId",
    "campaignId",
    "campaignName",
    "campaignBudgetCurrencyCode",
    "adGroupId",
    "adGroupName",
    "keywordId",
    "keyword",
    "targeting",
    "matchType",
    "keywordType",
    "impressions",
    "clicks",
    "cost",
    "sales7d",
    "purchases7d",
)
ATTEMPTS = 5  # one try and four retries: 1 + 2 + 4 + 8 s of backoff by default
MAX_WAIT = 30.0  # seconds, whatever Retry-After says
MAX_POLL = 30.0
BUDGET = 200.0  # seconds of waiting per client (one sync): inside the worker's 5 minutes
_DUPLICATE = re.compile(r"duplicate of\s*:?\s*([A-Za-z0-9._:-]+)", re.IGNORECASE)


# The regions' documented hosts: (API, Login with Amazon).
HOSTS = {
    AdsRegion.NA: (DEFAULT_URL, DEFAULT_TOKEN_URL),
    AdsRegion.EU: (
        "https://advertising-api-eu.amazon.com",
        "https://api.amazon.co.uk/auth/o2/token",
    ),
    AdsRegion.FE: (
        "https://advertising-api-fe.amazon.com",
        "https://api.amazon.co.jp/auth/o2/token",
    ),
}


def endpoints(region: AdsRegion) -> tuple[str, str]:
    """(API base, token URL) for ``region``. The variables (set by the CDK app, default the
    NA hosts) name the NA endpoints; a region's own documented host is used unless they
    point elsewhere (the local stand-in, a proxy), which then serves every region."""
    api = os.environ.get(URL_ENV) or DEFAULT_URL
    token = os.environ.get(TOKEN_URL_ENV) or DEFAULT_TOKEN_URL
    return (
        HOSTS[region][0] if api == DEFAULT_URL else api.rstrip("/"),
        HOSTS[region][1] if token == DEFAULT_TOKEN_URL else token,
    )


@dataclass(frozen=True)
class AdsCredentials:
    """A Login-with-Amazon app's client id and secret, and an advertiser's refresh token."""

    client_id: str
    client_secret: str
    refresh_token: str

    def __repr__(self) -> str:  # never a secret in a log line or a traceback
        return f"AdsCredentials(client_id={self.client_id!r}, client_secret=***, refresh_token=***)"

    __str__ = __repr__


class AdsApiError(RuntimeError):
    """The Ads API could not give the report; the message says why (never a secret)."""


class Revoked(AdsApiError):
    """LWA refused the refresh token (``invalid_grant``): the advertiser must connect again."""


class BadClient(AdsApiError):
    """LWA refused the client id or secret (``invalid_client``)."""


class Refused(AdsApiError):
    """The API refused the request (a 4xx that retrying cannot help, e.g. a bad profile)."""


class RateLimited(AdsApiError):
    """429 after every retry."""


class Unavailable(AdsApiError):
    """5xx (or no answer) after every retry."""


class ReportFailed(AdsApiError):
    """The report ended FAILED."""


class ReportPending(AdsApiError):
    """The report was not ready within the polling budget: ask again later (same report)."""


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> dict[str, Any]:
        try:
            found = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}


class AdsReports:
    """One advertiser's (credentials, Ads profile) daily ``spTargeting`` reports."""

    def __init__(
        self,
        credentials: AdsCredentials,
        ads_profile_id: str | None,
        region: AdsRegion = AdsRegion.NA,
        *,
        api_url: str | None = None,
        token_url: str | None = None,
        attempts: int = ATTEMPTS,
        backoff: float | None = None,
        poll: float | None = None,
        budget: float = BUDGET,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        default_api, default_token = endpoints(region)
        self.credentials = credentials
        self.ads_profile_id = ads_profile_id
        self.api_url = (api_url or default_api).rstrip("/")
        self.token_url = token_url or default_token
        self.attempts = attempts
        self.backoff = backoff if backoff is not None else float(os.environ.get(BACKOFF_ENV, "1"))
        self.poll = poll if poll is not None else float(os.environ.get(POLL_ENV, "5"))
        self.budget = budget
        self.waited = 0.0  # seconds slept so far (polls and backoff)
        self.timeout = timeout
        self.sleep = sleep
        self.access_token: str | None = None
        self.calls = 0  # HTTP requests made (bench and tests read it)

    # -- the report ----------------------------------------------------------------------

    def report(self, first: dt.date, last: dt.date) -> bytes:
        """The gzip JSON rows of ``first``..``last`` (at most ``MAX_REPORT_DAYS`` days)."""
        if (last - first).days + 1 > MAX_REPORT_DAYS or last < first:
            raise ValueError(f"a report spans 1 to {MAX_REPORT_DAYS} days, not {first}..{last}")
        report_id = self.create(first, last)
        url = self.wait(report_id)
        return self.download(url)

    def create(self, first: dt.date, last: dt.date) -> str:
        body = {
            "name": f"tripwire {REPORT_TYPE} {first}..{last}",
            "startDate": first.isoformat(),
            "endDate": last.isoformat(),
            "configuration": {
                "adProduct": "SPONSORED_PRODUCTS",
                "groupBy": ["targeting"],
                "columns": list(COLUMNS),
                "reportTypeId": REPORT_TYPE,
                "timeUnit": "DAILY",
                "format": "GZIP_JSON",
            },
        }
        answer = self._api("POST", "/reporting/reports", body, accept=(200, 425))
        found = answer.json()
        if answer.status == 425:
            match = _DUPLICATE.search(str(found.get("detail") or found.get("message") or ""))
            if match is None:
                raise Refused("Ads API: 425 duplicate report without the report's id")
            return match.group(1)
        report_id = found.get("reportId")
        if not report_id:
            raise Refused("Ads API: the created report has no reportId")
        return str(report_id)

    def wait(self, report_id: str) -> str:
        """Poll until COMPLETED (its ``url``); ``ReportFailed`` / ``ReportPending``."""
        interval, started = self.poll, self.waited
        quoted = urllib.parse.quote(report_id, safe="")
        while True:
            found = self._api("GET", f"/reporting/reports/{quoted}").json()
            status = str(found.get("status") or "")
            if status == "COMPLETED" and found.get("url"):
                return str(found["url"])
            if status == "FAILED":
                why = found.get("failureReason") or "no reason given"
                raise ReportFailed(f"Ads API: report {report_id} failed: {why}")
            if self.waited + interval > self.budget:
                raise ReportPending(
                    f"Ads API: report {report_id} still {status or 'unknown'} after "
                    f"{self.waited - started:.0f} s of polling; the next attempt picks it up"
                )
            self._sleep(interval)
            interval = min(interval * 2, MAX_POLL)

    def download(self, url: str) -> bytes:
        # A pre-signed S3 address: Amazon's headers would break its signature.
        return self._call("GET", url, None, {}, what="report download").body

    def subscribe(self, dataset: str, destination_arn: str, request_token: str) -> str:
        """Subscribe the Ads profile's ``dataset`` to the queue ``destination_arn``; the
        subscription's id. The same ``request_token`` names the same subscription."""
        body = {
            "dataSetId": dataset,
            "destinationArn": destination_arn,
            "clientRequestToken": request_token,
            "notes": "tripwire hourly scans",
        }
        found = self._api("POST", STREAM_PATH, body, content=STREAM_CONTENT).json()
        subscription = found.get("subscriptionId")
        if not subscription:
            raise Refused(f"Ads API: the {dataset} subscription has no subscriptionId")
        return str(subscription)

    def portfolios(self) -> dict[str, str]:
        """Portfolio id → name, through every page of ``POST /portfolios/list``."""
        names: dict[str, str] = {}
        body: dict[str, Any] = {"maxResults": 100}
        while True:
            found = self._api("POST", PORTFOLIOS_PATH, body, content=PORTFOLIO_CONTENT).json()
            for item in found.get("portfolios") or []:
                if isinstance(item, dict) and item.get("portfolioId") is not None:
                    names[str(item["portfolioId"])] = str(item.get("name") or item["portfolioId"])
            if not found.get("nextToken"):
                return names
            body = {"maxResults": 100, "nextToken": str(found["nextToken"])}

    def profiles(self) -> list[dict[str, Any]]:
        """``GET /v2/profiles``: the Ads profiles the refresh token opens (no scope header)."""
        answer = self._api("GET", "/v2/profiles", scoped=False)
        try:
            found = json.loads(answer.body or b"[]")
        except ValueError:
            found = None
        if not isinstance(found, list):
            raise Refused("Ads API: /v2/profiles answered without a list of profiles")
        return [p for p in found if isinstance(p, dict) and p.get("profileId") is not None]

    # -- Login with Amazon ---------------------------------------------------------------

    def refresh(self) -> str:
        form = urllib.parse.urlencode(
            {
                "grant_type": "refresh_token",
                "refresh_token": self.credentials.refresh_token,
                "client_id": self.credentials.client_id,
                "client_secret": self.credentials.client_secret,
            }
        ).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}
        answer = self._call(
            "POST", self.token_url, form, headers, what="token", accept=(200, 400, 401)
        )
        found = answer.json()
        if answer.status == 400 or answer.status == 401:
            code = str(found.get("error") or "")
            said = str(found.get("error_description") or code or f"HTTP {answer.status}")
            if code == "invalid_client":
                raise BadClient(f"Login with Amazon refused the client id or secret: {said}")
            raise Revoked(f"Login with Amazon refused the refresh token ({code}): {said}")
        token = found.get("access_token")
        if not token:
            raise Unavailable("Login with Amazon answered without an access token")
        self.access_token = str(token)
        return self.access_token

    # -- HTTP ----------------------------------------------------------------------------

    def _api(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        accept: tuple[int, ...] = (200,),
        scoped: bool = True,
        content: str = REPORT_CONTENT,
    ) -> Answer:
        """An Ads API call with its headers; a 401 refreshes the token and retries once."""
        data = json.dumps(body).encode() if body is not None else None
        for fresh in (False, True):
            if self.access_token is None or fresh:
                self.refresh()
            headers = {
                "Amazon-Advertising-API-ClientId": self.credentials.client_id,
                "Authorization": f"Bearer {self.access_token}",
                "Accept": "application/json",
            }
            if scoped:
                if not self.ads_profile_id:
                    raise Refused("Ads API: no Ads profile (Amazon-Advertising-API-Scope) chosen")
                headers["Amazon-Advertising-API-Scope"] = self.ads_profile_id
            if data is not None:
                headers["Content-Type"] = content
                headers["Accept"] = content
            answer = self._call(
                method, self.api_url + path, data, headers, what=path, accept=(*accept, 401)
            )
            if answer.status != 401:
                return answer
        raise Refused(f"Ads API: {path} answered 401 with a fresh access token")

    def _sleep(self, seconds: float) -> None:
        self.sleep(seconds)
        self.waited += seconds

    def _call(
        self,
        method: str,
        url: str,
        data: bytes | None,
        headers: dict[str, str],
        *,
        what: str,
        accept: tuple[int, ...] = (200,),
    ) -> Answer:
        """One request with retries: 429 / 5xx / no answer back off; ``accept`` returns."""
        why, last = "", cast(type[AdsApiError], Unavailable)
        for attempt in range(self.attempts):
            wait = self.backoff * 2**attempt
            request = urllib.request.Request(url, data, headers, method=method)
            self.calls += 1
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    return Answer(answer.status, answer.read(), dict(answer.headers))
            except urllib.error.HTTPError as failed:
                got = Answer(failed.code, failed.read() or b"", dict(failed.headers or {}))
                if failed.code in accept:
                    return got
                if failed.code != 429 and failed.code < 500:
                    said = got.json().get("message") or got.json().get("detail") or failed.reason
                    raise Refused(f"Ads API: {what} answered HTTP {failed.code}: {said}") from None
                why = f"HTTP {failed.code}"
                last = RateLimited if failed.code == 429 else Unavailable
                retry_after = str(failed.headers.get("Retry-After") or "") if failed.headers else ""
                if retry_after.strip().isdigit():
                    wait = max(wait, float(retry_after))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as failed:
                why, last = f"no answer ({type(failed).__name__})", Unavailable
            if attempt + 1 < self.attempts and self.waited + min(wait, MAX_WAIT) <= self.budget:
                self._sleep(min(wait, MAX_WAIT))
            elif attempt + 1 < self.attempts:
                why += " (out of waiting time)"
                break
        raise last(f"Ads API: {why} for {what} after {attempt + 1} attempts")
