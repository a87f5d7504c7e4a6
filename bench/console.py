"""Console report reading: rows/second for a targeting report as CSV and XLSX, and for
its search term twin (several rows per keyword and day, summed) — parsing and validation
only, no store.

    python bench/console.py [--keywords 500] [--days 20]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tests.data import samples
from tests.data.console_reports import write_console_variants

from tripwire.demo.generator import GeneratorConfig
from tripwire.ingest.ads_console import ReportRows, read_console_report
from tripwire.ingest.csv_files import Collector


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keywords", type=int, default=500)
    parser.add_argument("--days", type=int, default=20)
    args = parser.parse_args()
    samples.ACCOUNT = GeneratorConfig(seed=5, keywords=args.keywords, days=args.days)
    rows = samples.report_rows()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        text = [samples.console_cells(r, as_text=True) for r in rows]
        samples.write_console_csv(out / "targeting.csv", text)
        samples.write_console_xlsx(
            out / "targeting.xlsx", [samples.console_cells(r, as_text=False) for r in rows]
        )
        variants = write_console_variants(out, rows)
        for name, path in [
            ("targeting CSV", out / "targeting.csv"),
            ("targeting XLSX", out / "targeting.xlsx"),
            ("search term XLSX", variants["sp_search_term_report.xlsx"]),
            ("campaign CSV", variants["sp_campaign_report.csv"]),
        ]:
            parsed = ReportRows("A1")
            started = time.perf_counter()
            read_console_report(path, parsed, Collector(False))
            seconds = time.perf_counter() - started
            print(f"{name:<17} {parsed.rows:>8,} rows {parsed.rows / seconds:>9,.0f} rows/s")


if __name__ == "__main__":
    main()
