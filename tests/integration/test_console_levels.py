"""Console reports of several levels in one profile, stored through the local stack.

A campaign report gives a campaign its own series; keyword rows, whenever they arrive,
take over the days they cover; portfolio and account sum both. The order of imports
does not matter, and importing again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.data.samples import report_rows
from tripwire.cli import main as cli
from tripwire.domain.metrics import Interval
from tripwire.ingest.ads_console import import_console_report
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("local_stack")]
ADS = Path(__file__).parents[1] / "data" / "ads"
JAN = (dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 31))
OWN = (1000, 10, 5.0, 20.0, 2)  # the campaign report's numbers, every day


def campaign_report(tmp_path: Path) -> tuple[Path, str]:
    """A campaign report for one campaign of the sample account, 14 days of ``OWN``."""
    row = report_rows()[0]
    path = tmp_path / "campaign.csv"
    lines = ["Start Date,End Date,Portfolio name,Currency,Campaign Name,Impressions,Clicks,"
             "Spend,7 Day Total Sales,7 Day Total Orders (#)"]  # fmt: skip
    for day in range(1, 15):
        d = f"Jan {day:02d}, 2026"
        lines.append(f'"{d}","{d}",{row["portfolio"]},USD,{row["campaign"]},1000,10,5.00,20.00,2')
    path.write_text("\n".join(lines) + "\n")
    return path, row["campaign"]


def first_week(tmp_path: Path) -> Path:
    text = (ADS / "sp_targeting_report.csv").read_text(encoding="utf-8-sig").splitlines()
    week = [line for line in text[1:] if line.startswith('"Jan 0') and line[6] < "8"]
    path = tmp_path / "targeting_week1.csv"
    path.write_text("\n".join([text[0], *week]) + "\n")
    return path


def stored(tenant: str, profile: str) -> dict[str, dict[str, tuple[float, ...]]]:
    _, entities = CatalogStore().get_hierarchy(tenant, profile)
    ids = [e.entity_id for e in entities if not e.is_leaf]
    names = {e.entity_id: e.name or e.entity_id for e in entities}
    window = MetricStore().read_window(tenant, profile, Interval.D1, ids, *JAN)
    return {names[e]: points for e, points in window.items() if points}


def keyword_sums(campaign: str | None, days: range) -> dict[str, tuple[float, ...]]:
    sums: dict[str, list[float]] = {}
    for r in report_rows():
        if (campaign is None or r["campaign"] == campaign) and r["date"].day in days:
            total = sums.setdefault(r["date"].isoformat(), [0, 0, 0.0, 0.0, 0])
            for i, m in enumerate(("impressions", "clicks", "spend", "sales", "orders")):
                total[i] += r[m]
    return {d: tuple(v) for d, v in sums.items()}


@pytest.mark.parametrize("campaign_first", [True, False])
def test_campaign_rows_count_only_where_no_keyword_rows_exist(
    tenant: str, tmp_path: Path, campaign_first: bool
) -> None:
    report, name = campaign_report(tmp_path)
    week = first_week(tmp_path)
    order = [report, week] if campaign_first else [week, report]
    results = [import_console_report(tenant, "A1", [path]) for path in order]
    assert results[-1].superseded == (0 if campaign_first else 7)
    series = stored(tenant, "A1")
    keywords = keyword_sums(name, range(1, 8))
    for day in range(1, 15):
        iso = f"2026-01-{day:02d}"
        if day <= 7:  # the keywords' roll-up, not the campaign row
            assert series[name][iso] == pytest.approx(keywords[iso])
        else:
            assert series[name][iso] == pytest.approx(OWN)
    account = series["A1"]
    everyone = keyword_sums(None, range(1, 8))
    assert account["2026-01-03"] == pytest.approx(everyone["2026-01-03"])
    assert account["2026-01-10"] == pytest.approx(OWN)  # only the campaign report that day
    again = import_console_report(tenant, "A1", [report])
    assert again.items_written == 0 and again.entities_new == 0


def test_the_same_profile_ends_the_same_whatever_the_import_order(
    tenant: str, tmp_path: Path
) -> None:
    report, _ = campaign_report(tmp_path)
    week = first_week(tmp_path)
    import_console_report(tenant, "one", [report])
    import_console_report(tenant, "one", [week])
    import_console_report(tenant, "two", [week, report])  # one import holding both
    one, two = stored(tenant, "one"), stored(tenant, "two")
    assert one.pop("one") == two.pop("two")  # the accounts
    assert one == two and len(one) > 2  # portfolios and campaigns


def test_the_cli_reads_windows_dimensions_and_refuses_empty_files(
    tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["import", "--tenant", tenant, "--quiet", "--format", "ads-console"]
    windows = [*base, "--profile", "W1", "--file", str(ADS / "sp_targeting_windows.csv")]
    assert cli(windows) == 2
    assert "pick one with --attribution 1|7|14|30" in capsys.readouterr().err
    assert cli([*windows, "--attribution", "14"]) == 0
    wrong = str(ADS / "sp_targeting_wrong_dimension.xlsx")
    assert cli([*base, "--profile", "X1", "--file", wrong]) == 0
    assert f"{len(report_rows())} metric rows" in capsys.readouterr().out
    empty = str(ADS / "console_no_rows.xlsx")
    assert cli([*base, "--profile", "E1", "--file", empty]) == 2
    assert "console_no_rows.xlsx line 1, field 'file': has no data rows" in capsys.readouterr().err
    assert CatalogStore().get_profile(tenant, "E1") is None
    ambiguous = [*base, "--profile", "D1", "--file", str(ADS / "console_ambiguous_dates.csv")]
    assert cli(ambiguous) == 2
    assert cli([*ambiguous, "--date-format", "mdy"]) == 0
