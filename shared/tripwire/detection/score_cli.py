"""`tripwire score`: one anomaly score in [0, 1] per data row of a CSV series.

Input: a header line (`timestamp,value`, more numeric columns allowed), then data rows,
from stdin or a file path. Output: one score per data row, written as each row arrives.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime

import numpy as np

from tripwire.detection.streaming import STREAMING_WEIGHTS, StreamingConfig, StreamingScorer
from tripwire.detection.vote import parse_weights


class InputError(ValueError):
    """A line of the input cannot be read; the message names the line."""


def _parse_timestamp(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None  # timestamps only feed season inference; unreadable ones turn it off


def parse_row(line: str, line_no: int, n_columns: int) -> tuple[datetime | None, list[float]]:
    """Split one data line into its timestamp and numeric values."""
    fields = line.rstrip("\r\n").split(",")
    if len(fields) != n_columns:
        raise InputError(f"line {line_no}: expected {n_columns} fields, got {len(fields)}")
    values = []
    for column, text in enumerate(fields[1:], start=2):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise InputError(
                f"line {line_no}: column {column} value {text.strip()!r} is not a finite number"
            )
        values.append(value)
    return _parse_timestamp(fields[0]), values


def score_stream(lines: Iterable[str], config: StreamingConfig | None = None) -> Iterator[float]:
    """Yield one score per data line; the first line is the header. A config naming an
    unknown detector fails on the first ``next``, before any line is read."""
    scorer = StreamingScorer(config)
    it = iter(lines)
    header = next(it, None)
    if header is None or not header.strip():
        return
    n_columns = len(header.split(","))
    if n_columns < 2:
        raise InputError("line 1: header needs a timestamp and at least one value column")
    for line_no, line in enumerate(it, start=2):
        if not line.strip():
            continue
        ts, values = parse_row(line, line_no, n_columns)
        yield scorer.step(np.asarray(values), ts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tripwire score", description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", help="CSV file (default: stdin)")
    ap.add_argument(
        "--weights",
        help="streaming detectors and their weights, e.g. context=1 (default: "
        + ",".join(f"{k}={v:g}" for k, v in STREAMING_WEIGHTS.items())
        + ")",
    )
    args = ap.parse_args(argv)
    try:
        config = StreamingConfig(weights=parse_weights(args.weights)) if args.weights else None
        if args.path:
            with open(args.path) as f:
                _emit(score_stream(f, config))
        else:
            _emit(score_stream(sys.stdin, config))
    except (InputError, ValueError, OSError) as e:
        print(f"tripwire score: error: {e}", file=sys.stderr)
        return 2
    return 0


def _emit(scores: Iterator[float]) -> None:
    write = sys.stdout.write
    for s in scores:
        write(f"{s:.17g}\n")


if __name__ == "__main__":
    sys.exit(main())
