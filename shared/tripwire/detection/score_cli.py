"""`tripwire score`: one anomaly score in [0, 1] per data row of a CSV series.

Input: a header line (`timestamp,value`, more numeric columns allowed), then data rows,
from stdin or a file path. Output: one score per data row, written as each row arrives.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
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


def build_config(weights: str | None, settings: Sequence[str]) -> StreamingConfig | None:
    """The scorer's config from ``--weights`` and ``--set name=value`` items (None: defaults).

    ``--set`` reaches the scalar fields of ``StreamingConfig``, so ``bench/nab.py`` can
    cross-validate a parameter without a flag of its own; a bad item names itself.
    """
    if not weights and not settings:
        return None
    scalars = {
        f.name: type(f.default)
        for f in dataclasses.fields(StreamingConfig)
        if isinstance(f.default, (int, float))
    }
    changes: dict[str, object] = {}
    for item in settings:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or name not in scalars:
            raise ValueError(f"--set {item!r}: expected name=value, name one of {sorted(scalars)}")
        try:
            changes[name] = scalars[name](text.strip())
        except ValueError:
            raise ValueError(f"--set {item!r}: {name} needs a {scalars[name].__name__}") from None
    if weights:
        changes["weights"] = parse_weights(weights)
    return StreamingConfig(**changes)  # type: ignore[arg-type]


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
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a scalar StreamingConfig field, e.g. novelty_horizon=100 (repeatable)",
    )
    args = ap.parse_args(argv)
    try:
        config = build_config(args.weights, args.set)
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
