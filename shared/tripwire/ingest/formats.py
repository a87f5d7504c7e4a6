"""Which reader a file needs, told from the file itself (the landing bucket's imports).

- ``.json``, ``.jsonl``, ``.ndjson`` and ``.gz`` files are Amazon Ads API v3 reports;
- ``.csv``, ``.tsv``, ``.txt``, ``.xlsx`` and ``.xlsm`` are tables: one whose header has
  Open, High, Low and Close columns holds OHLCV bars, any other an Amazon Ads console
  report (whose reader names what it lacks when it is neither);
- anything else is refused, naming the extension.
"""

from __future__ import annotations

from pathlib import Path

from tripwire.domain.landing import LandingFormat
from tripwire.ingest.errors import ImportRejected, RowError
from tripwire.ingest.tables import read_table

API_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".gz"})
TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".xlsx", ".xlsm"})
OHLCV_HEADER = frozenset({"open", "high", "low", "close"})


def detect_format(path: Path) -> LandingFormat:
    suffix = path.suffix.lower()
    if suffix in API_SUFFIXES:
        return LandingFormat.ADS_API
    if suffix not in TABLE_SUFFIXES:
        known = ", ".join(sorted(API_SUFFIXES | TABLE_SUFFIXES))
        why = f"unsupported file type {suffix or '(no extension)'!r}: drop one of {known}"
        raise ImportRejected([RowError(path.name, 0, "file", why)])
    header = {str(name).strip().lower() for name in read_table(path).header}
    return LandingFormat.OHLCV if OHLCV_HEADER.issubset(header) else LandingFormat.ADS_CONSOLE
