"""The Amazon Ads API client (``ingest.ads_source``) against the local stand-in over HTTP:
token refresh on 401, Retry-After, exponential backoff, revoked tokens, the report
lifecycle. Sleeps are recorded, never slept."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterator

import pytest

from tripwire.domain.connections import AdsRegion
from tripwire.ingest.ads_source import (
    DEFAULT_TOKEN_URL,
    DEFAULT_URL,
    TOKEN_URL_ENV,
    URL_ENV,
    AdsCredentials,
    AdsReports,
    BadClient,
    RateLimited,
    Refused,
    ReportFailed,
    ReportPending,
    Revoked,
    Unavailable,
    endpoints,
)
from tripwire.local.ads_provider import LocalAdsProvider

SCOPE = "3141592653"
CREDENTIALS = AdsCredentials("amzn1.application-oa2-client.abc", "s3cr3t-value", "Atzr|refresh-1")
DAY = dt.date(2026, 3, 10)


def _book(profile: str, first: dt.date, last: dt.date) -> list[dict[str, object]]:
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [
        {
            "date": d.isoformat(),
            "campaignId": "11",
            "adGroupId": "22",
            "keywordId": "33",
            "impressions": 100,
            "clicks": 5,
            "cost": 2.5,
            "sales7d": 50.0,
            "purchases7d": 2,
        }
        for d in days
    ]


@pytest.fixture
def provider() -> Iterator[LocalAdsProvider]:
    stand_in = LocalAdsProvider(_book, polls=3)
    stand_in.start()
    stand_in.account(CREDENTIALS.refresh_token, CREDENTIALS.client_id, "s3cr3t-value", SCOPE)
    stand_in.today = DAY + dt.timedelta(days=30)  # every day served is final
    yield stand_in
    stand_in.stop()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _client(
    provider: LocalAdsProvider, sleeps: Sleeps, credentials: AdsCredentials = CREDENTIALS, **kw
) -> AdsReports:
    kw.setdefault("backoff", 1.0)
    kw.setdefault("poll", 5.0)
    return AdsReports(
        credentials,
        SCOPE,
        api_url=provider.url,
        token_url=provider.url + "/auth/o2/token",
        sleep=sleeps,
        **kw,
    )


def test_a_report_is_created_polled_through_its_lifecycle_and_downloaded(
    provider: LocalAdsProvider,
) -> None:
    sleeps = Sleeps()
    raw = _client(provider, sleeps).report(DAY, DAY + dt.timedelta(days=2))
    rows = json.loads(gzip.decompress(raw))
    assert [r["date"] for r in rows] == ["2026-03-10", "2026-03-11", "2026-03-12"]
    paths = [p for _, p in provider.requests]
    assert paths[0] == "/auth/o2/token" and paths[1] == "/reporting/reports"
    assert paths.count(paths[2]) == 3  # PENDING, PROCESSING, COMPLETED
    assert paths[-1].startswith("/download/")
    assert sleeps == [5.0, 10.0]  # polls back off, doubling


def test_a_stale_access_token_is_refreshed_once_on_401(provider: LocalAdsProvider) -> None:
    client = _client(provider, Sleeps())
    client.refresh()
    before = client.access_token
    provider.expire_tokens()
    assert client.create(DAY, DAY)
    assert client.access_token != before
    assert [p for _, p in provider.requests].count("/auth/o2/token") == 2


def test_retry_after_is_honoured_and_backoff_doubles(provider: LocalAdsProvider) -> None:
    sleeps = Sleeps()
    client = _client(provider, sleeps)
    client.refresh()
    provider.fail(429, retry_after=7)
    provider.fail(503, 502)
    assert client.create(DAY, DAY)
    assert sleeps == [7.0, 2.0, 4.0]  # Retry-After beats 1 s; then 2, 4 s


def test_a_429_storm_longer_than_the_attempts_is_rate_limited(provider: LocalAdsProvider) -> None:
    client = _client(provider, Sleeps(), attempts=3)
    client.refresh()
    provider.fail(429, 429, 429, retry_after=1)
    with pytest.raises(RateLimited, match="HTTP 429 for /reporting/reports after 3 attempts"):
        client.create(DAY, DAY)


def test_5xx_every_time_is_unavailable(provider: LocalAdsProvider) -> None:
    client = _client(provider, Sleeps(), attempts=2)
    client.refresh()
    provider.fail(500, 500)
    with pytest.raises(Unavailable, match="HTTP 500"):
        client.create(DAY, DAY)


def test_a_revoked_refresh_token_is_revoked_and_never_retried(provider: LocalAdsProvider) -> None:
    provider.revoke(CREDENTIALS.refresh_token)
    sleeps = Sleeps()
    with pytest.raises(Revoked, match="invalid_grant") as raised:
        _client(provider, sleeps).report(DAY, DAY)
    assert sleeps == []
    assert "Atzr|refresh-1" not in str(raised.value) and "s3cr3t" not in str(raised.value)


def test_a_wrong_client_secret_is_a_bad_client(provider: LocalAdsProvider) -> None:
    wrong = AdsCredentials(CREDENTIALS.client_id, "nope", CREDENTIALS.refresh_token)
    with pytest.raises(BadClient, match="client id or secret"):
        _client(provider, Sleeps(), wrong).refresh()


def test_a_duplicate_request_waits_for_the_report_already_queued(
    provider: LocalAdsProvider,
) -> None:
    client = _client(provider, Sleeps())
    first = client.create(DAY, DAY)
    assert client.create(DAY, DAY) == first  # 425 names it


def test_a_failed_report_and_one_still_pending_after_the_budget(
    provider: LocalAdsProvider,
) -> None:
    provider.fail_reports("internal error")
    client = _client(provider, Sleeps())
    with pytest.raises(ReportFailed, match="internal error"):
        client.report(DAY, DAY)
    provider.polls = 100
    sleeps = Sleeps()
    with pytest.raises(ReportPending, match="still P"):
        _client(provider, sleeps, budget=20.0).report(DAY, DAY + dt.timedelta(days=1))
    assert sleeps == [5.0, 10.0]  # the next poll (20 s) would pass the budget


def test_backoff_stops_early_when_the_waiting_budget_is_spent(
    provider: LocalAdsProvider,
) -> None:
    sleeps = Sleeps()
    client = _client(provider, sleeps, budget=10.0)
    client.refresh()
    provider.fail(429, 429, 429, 429, retry_after=6)
    with pytest.raises(RateLimited, match=r"out of waiting time\) for /reporting/reports after 2"):
        client.create(DAY, DAY)
    assert sleeps == [6.0]


def test_a_request_the_api_refuses_is_not_retried(provider: LocalAdsProvider) -> None:
    other = AdsReports(
        CREDENTIALS,
        "999",
        api_url=provider.url,
        token_url=provider.url + "/auth/o2/token",
        sleep=Sleeps(),
    )
    with pytest.raises(Refused, match="HTTP 403"):
        other.create(DAY, DAY)
    with pytest.raises(ValueError, match="1 to 31 days"):
        other.report(DAY, DAY + dt.timedelta(days=31))


def test_the_profiles_a_token_opens_are_listed_without_a_scope(
    provider: LocalAdsProvider,
) -> None:
    provider.account("Atzr|two", CREDENTIALS.client_id, "s3cr3t-value", "111", "222")
    two = AdsCredentials(CREDENTIALS.client_id, "s3cr3t-value", "Atzr|two")
    client = AdsReports(
        two, None, api_url=provider.url, token_url=provider.url + "/auth/o2/token", sleep=Sleeps()
    )
    assert [p["profileId"] for p in client.profiles()] == [111, 222]
    with pytest.raises(Refused, match="no Ads profile"):
        client.create(DAY, DAY)


def test_credentials_never_show(provider: LocalAdsProvider) -> None:
    assert "s3cr3t" not in repr(CREDENTIALS) and "refresh-1" not in str(CREDENTIALS)


def test_regions_use_their_hosts_unless_the_variables_point_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(URL_ENV, DEFAULT_URL)
    monkeypatch.setenv(TOKEN_URL_ENV, DEFAULT_TOKEN_URL)
    assert endpoints(AdsRegion.EU) == (
        "https://advertising-api-eu.amazon.com",
        "https://api.amazon.co.uk/auth/o2/token",
    )
    assert endpoints(AdsRegion.NA) == (DEFAULT_URL, DEFAULT_TOKEN_URL)
    monkeypatch.setenv(URL_ENV, "http://127.0.0.1:9/")
    monkeypatch.setenv(TOKEN_URL_ENV, "http://127.0.0.1:9/auth/o2/token")
    assert endpoints(AdsRegion.FE) == ("http://127.0.0.1:9", "http://127.0.0.1:9/auth/o2/token")


# -- Marketing Stream subscriptions ---------------------------------------------------------

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:tripwire-stream"


def test_a_stream_subscription_is_made_once_per_request_token(provider: LocalAdsProvider) -> None:
    client = _client(provider, Sleeps())
    first = client.subscribe("sp-traffic", QUEUE_ARN, "token-1")
    assert client.subscribe("sp-traffic", QUEUE_ARN, "token-1") == first  # a retried call
    assert client.subscribe("sp-conversion", QUEUE_ARN, "token-2") != first
    assert provider.subscriptions[SCOPE]["sp-traffic"] == (first, QUEUE_ARN, "token-1")


@pytest.mark.parametrize(
    ("dataset", "arn", "why"),
    [
        ("sb-traffic", QUEUE_ARN, "dataSetId 'sb-traffic' is not offered"),
        ("sp-traffic", "arn:aws:sns:us-east-1:123456789012:topic", "SQS queue ARN"),
    ],
)
def test_a_subscription_amazon_would_refuse_is_refused(
    provider: LocalAdsProvider, dataset: str, arn: str, why: str
) -> None:
    with pytest.raises(Refused, match=why):
        _client(provider, Sleeps()).subscribe(dataset, arn, "token-1")


class _BookWithPortfolios:
    """A book whose advertiser has 150 portfolios: more than one page of 100."""

    def __init__(self) -> None:
        self.names = {str(9000 + i): f"Portfolio {i:03d}" for i in range(150)}

    def __call__(self, profile: str, first: dt.date, last: dt.date) -> list[dict[str, object]]:
        return _book(profile, first, last)

    def portfolios(self, profile: str) -> dict[str, str]:
        return self.names if profile == SCOPE else {}


def test_portfolio_names_are_listed_through_every_page(provider: LocalAdsProvider) -> None:
    book = _BookWithPortfolios()
    provider.book = book
    names = _client(provider, Sleeps()).portfolios()
    assert names == book.names
    assert [p for _, p in provider.requests].count("/portfolios/list") == 2  # 100 + 50


def test_portfolios_of_an_advertiser_without_any_are_empty(provider: LocalAdsProvider) -> None:
    assert _client(provider, Sleeps()).portfolios() == {}
