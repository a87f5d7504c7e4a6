"""Score `tripwire score` on the NAB development set and print it beside the published table.

    python bench/nab.py                      # all 45 files, --jobs 2
    python bench/nab.py --files realTweets --per-file
    python bench/nab.py --command 'tripwire score'

The NAB scorer needs pandas; pass `--scorer-python` if this interpreter lacks it.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAB_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "nab"
REPO_SHARED = Path(__file__).resolve().parents[1] / "shared"

PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
# From ../shared/nab/README.md: published detectors re-scored on these 45 files.
PUBLISHED: list[tuple[str, float, float, float]] = [
    ("perfect", 100.00, 100.00, 100.00),
    ("ARTime", 77.80, 68.16, 83.19),
    ("CAD OSE", 75.99, 73.03, 79.17),
    ("Numenta HTM", 72.44, 66.11, 76.41),
    ("earthgecko Skyline", 64.22, 49.17, 70.93),
    ("Relative Entropy", 58.73, 52.48, 62.45),
    ("KNN CAD", 58.72, 43.72, 65.25),
    ("Random Cut Forest (AWS)", 54.76, 42.21, 62.61),
    ("Twitter ADVec", 51.29, 33.82, 59.09),
    ("Etsy Skyline", 44.38, 36.29, 56.09),
    ("Windowed Gaussian", 42.76, 17.84, 52.60),
    ("random", 21.61, 10.91, 30.51),
    ("null", 0.00, 0.00, 0.00),
]


def default_command() -> str:
    return f"{shlex.quote(sys.executable)} -m tripwire.detection.score_cli"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nab-dir", type=Path, default=NAB_DIR, help="NAB set (data/, labels)")
    ap.add_argument("--command", default=None, help="scorer command (default: score_cli)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--files", help="subset, as nab_score.py --files")
    ap.add_argument("--per-file", action="store_true", help="print per-file raw scores")
    ap.add_argument("--save-results", help="keep the scores in NAB results layout here")
    ap.add_argument("--scorer-python", default=sys.executable, help="python with pandas")
    ap.add_argument("--detector", default="tripwire")
    return ap.parse_args(argv)


def run(args: argparse.Namespace) -> tuple[dict[str, float], float]:
    nab = args.nab_dir.resolve()
    command = args.command or default_command()
    with tempfile.TemporaryDirectory() as tmp:
        out_json = Path(tmp) / "nab.json"
        cmd = [
            args.scorer_python,
            str(nab / "nab_score.py"),
            "--data",
            str(nab / "data"),
            "--labels",
            str(nab / "combined_windows.json"),
            "--command",
            command,
            "--detector",
            args.detector,
            "--jobs",
            str(args.jobs),
            "--json",
            str(out_json),
        ]
        for flag, value in (("--files", args.files), ("--save-results", args.save_results)):
            if value:
                cmd += [flag, value]
        if args.per_file:
            cmd.append("--per-file")
        env = dict(os.environ)
        # The scorer module must be importable even without an editable install.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_SHARED), env.get("PYTHONPATH")]))
        started = time.monotonic()
        subprocess.run(cmd, check=True, env=env)
        elapsed = time.monotonic() - started
        result = json.loads(out_json.read_text())
    scores = {name: float(result["profiles"][name]["score"]) for name in PROFILES}
    return scores, elapsed


def print_table(mine: dict[str, float], label: str, subset: bool) -> None:
    rows = [*PUBLISHED, (label, mine["standard"], mine[PROFILES[1]], mine[PROFILES[2]])]
    rows.sort(key=lambda r: -r[1])
    print()
    if subset:
        print("(subset of files: the published numbers are for all 45 and do not compare)")
    print(f"{'detector':<26} {'standard':>9} {'low FP':>9} {'low FN':>9}")
    for name, std, low_fp, low_fn in rows:
        mark = "  <--" if name == label else ""
        print(f"{name:<26} {std:9.2f} {low_fp:9.2f} {low_fn:9.2f}{mark}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scores, elapsed = run(args)
    print_table(scores, args.detector, subset=bool(args.files))
    print(f"\nwall time {elapsed:.0f} s (jobs={args.jobs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
