"""Importing Amazon Ads reports and OHLCV files into the local stack (moto server over HTTP)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.data.samples import report_rows
from tripwire.cli import main as cli
from tripwire.domain.metrics import Interval
from tripwire.ingest.ads_api import import_api_report
from tripwire.ingest.ads_console import import_console_report
from tripwire.ingest.errors import ImportRejected
from tripwire.ingest.ohlcv_csv import import_ohlcv
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("local_stack")]
DATA = Path(__file__).parents[1] / "data"
ADS, OHLCV = DATA / "ads", DATA / "ohlcv"
JAN = (datetime(2026, 1, 1), datetime(2026, 1, 31))


def account_totals(tenant: str, profile: str) -> dict[str, tuple[float, ...]]:
    return MetricStore().read_window(tenant, profile, Interval.D1, [profile], *JAN)[profile]


def test_a_console_report_imports_with_roll_ups_and_its_currency(tenant: str) -> None:
    report = import_console_report(tenant, "acme-us", [ADS / "sp_targeting_report.xlsx"])
    assert report.rows == len(report_rows())
    profile = CatalogStore().get_profile(tenant, "acme-us")
    assert profile is not None and profile.currency == "USD"
    day = [r for r in report_rows() if r["date"].isoformat() == "2026-01-03"]
    total = account_totals(tenant, "acme-us")["2026-01-03"]
    assert total[0] == sum(r["impressions"] for r in day)
    assert total[2] == pytest.approx(sum(r["spend"] for r in day))


def test_the_api_report_and_the_console_report_roll_up_to_the_same_account(tenant: str) -> None:
    import_api_report(tenant, "via-api", [ADS / "sp_targeting.json.gz"])
    import_console_report(tenant, "via-console", [ADS / "sp_targeting_report.csv"])
    assert account_totals(tenant, "via-api") == account_totals(tenant, "via-console")


def test_importing_a_report_twice_changes_nothing(tenant: str) -> None:
    import_api_report(tenant, "A1", [ADS / "sp_targeting.json"])
    again = import_api_report(tenant, "A1", [ADS / "sp_targeting.json.gz"])
    assert again.items_written == 0 and again.entities_new == 0


@pytest.mark.parametrize(
    "name", ["console_bad_number.csv", "console_duplicate_row.csv", "console_unknown_currency.csv"]
)
def test_a_bad_console_row_writes_nothing(tenant: str, name: str) -> None:
    with pytest.raises(ImportRejected, match=rf"{name} line 5"):
        import_console_report(tenant, "A1", [ADS / name])
    assert CatalogStore().get_profile(tenant, "A1") is None
    assert account_totals(tenant, "A1") == {}


def test_a_profile_keeps_its_currency(tenant: str, tmp_path: Path) -> None:
    import_api_report(tenant, "A1", [ADS / "sp_targeting.json"])
    euros = tmp_path / "report.json"
    euros.write_text(ADS.joinpath("sp_targeting.json").read_text().replace('"USD"', "null"))
    with pytest.raises(ImportRejected, match="'currency': profile A1 is USD, this import is EUR"):
        import_api_report(tenant, "A1", [euros], currency="EUR")


def test_ohlcv_files_become_a_market_of_tickers(tenant: str) -> None:
    report = import_ohlcv(tenant, "US", sorted((OHLCV / "us").glob("*.csv")))
    assert (report.rows, report.entities) == (270, 4)
    profile = CatalogStore().get_profile(tenant, "US")
    assert profile is not None and (profile.kind, profile.currency) == ("market", "USD")
    _, entities = CatalogStore().get_hierarchy(tenant, "US")
    assert {(e.entity_id, e.parent_id) for e in entities} >= {("US", None), ("US-AAPX", "US")}
    bars = MetricStore().read_window(
        tenant, "US", Interval.D1, ["US-AAPX", "US"], datetime(2024, 1, 1), datetime(2024, 12, 31)
    )
    assert len(bars["US-AAPX"]) == 90 and bars["US"] == {}  # prices do not roll up


def test_intraday_bars_are_stored_per_day_bucket(tenant: str, tmp_path: Path) -> None:
    path = tmp_path / "AAPX.csv"
    rows = [f"2026-03-0{d}T{h:02d}:00:00Z,10,11,9,10.5,{100 * h}" for d in (2, 3) for h in (14, 15)]
    path.write_text("Datetime,Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n")
    report = import_ohlcv(tenant, "US", [path], interval=Interval.M15)
    assert (report.points_written, report.items_written) == (4, 2)  # one item per day
    window = MetricStore().read_window(
        tenant, "US", Interval.M15, ["US-AAPX"], datetime(2026, 3, 2), datetime(2026, 3, 3, 23)
    )
    assert list(window["US-AAPX"]) == [
        "2026-03-02T14:00:00",
        "2026-03-02T15:00:00",
        "2026-03-03T14:00:00",
        "2026-03-03T15:00:00",
    ]


def test_the_cli_imports_each_format_and_reports_skipped_rows(
    tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["import", "--tenant", tenant, "--quiet"]
    assert (
        cli([*base, "--format", "ohlcv", "--market", "US", "--file", str(OHLCV / "us_long.csv")])
        == 0
    )
    assert (
        cli(
            [
                *base,
                "--format",
                "ads-api",
                "--profile",
                "A1",
                "--file",
                str(ADS / "sp_targeting.json.gz"),
            ]
        )
        == 0
    )
    bad = [
        "--format",
        "ads-console",
        "--profile",
        "B1",
        "--file",
        str(ADS / "console_bad_number.csv"),
    ]
    assert cli([*base, *bad]) == 2
    assert "console_bad_number.csv line 5, field 'Spend'" in capsys.readouterr().err
    assert cli([*base, *bad, "--skip-bad-rows"]) == 0
    out = capsys.readouterr().out
    assert "11 metric rows" in out and "skipped 1 bad rows" in out and "line 5" in out
