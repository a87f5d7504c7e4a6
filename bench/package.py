"""Build the Lambda layers and print what each function ships and how fast it cold-imports.

    .venv/bin/python bench/package.py [--repeat 3]

For every function (ROUTES + WORKERS): its code plus the layers infra gives it
(``infra.components.functions.layers_of``), unzipped (Lambda's limit: 250 MB, and the build
keeps a 20 MB margin) and zipped; then the cold import of ``functions/<name>/handler.py``
in a fresh **python3.12** process whose path holds only that function, its layers and boto3
(which the Lambda runtime provides) — so a handler that imports something its layers lack
fails here, not after a deploy. Reference in the same run: a bare interpreter start and
``import numpy`` / ``import onnxruntime`` from the built layer (DESIGN.md: 0.20 s, 0.28 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]

from infra.components.functions import FUNCTIONS_DIR, function_names, layers_of  # noqa: E402
from layers.build import (  # noqa: E402
    BUILD_DIR,
    LAMBDA_UNZIPPED_LIMIT,
    PLATFORMS,
    PYTHON_VERSION,
    SAFETY_MARGIN,
    build_all,
    compile_bytecode,
    lambda_python,
    tree_size,
    zipped_size,
)

MB = 2**20
BOTO3 = "boto3==1.40.4"  # about what the python3.12 Lambda runtime bundles
TARGET_IMPORT_S = 1.0

_PROBE = """
import importlib.util, sys, time
sys.path[:0] = {paths!r}
start = time.perf_counter()
{body}
print(time.perf_counter() - start)
"""
_LOAD_HANDLER = """
spec = importlib.util.spec_from_file_location("handler", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.handler)
"""


def python312() -> str:
    python = lambda_python()
    if python is None:
        raise SystemExit(f"python{PYTHON_VERSION} is needed to import the built layers")
    return python


def runtime_boto3() -> Path:
    """boto3 as the Lambda runtime provides it (not a layer: never deployed)."""
    target = BUILD_DIR / "_runtime-boto3"
    if not (target / "boto3").exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             *[a for tag in PLATFORMS for a in ("--platform", tag)], "--only-binary=:all:",
             "--python-version", PYTHON_VERSION, "--target", str(target), BOTO3],
            check=True,
        )  # fmt: skip
        compile_bytecode(target)  # the runtime's boto3 is precompiled too
    return target


def cold_seconds(python: str, paths: list[str], body: str, repeat: int) -> float:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "tripwire",
        "POWERTOOLS_METRICS_NAMESPACE": "Tripwire",
        # Nothing new cached between runs: /opt and /var/task are read-only in Lambda.
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    times = []
    for _ in range(repeat):
        result = subprocess.run(
            [python, "-S", "-c", _PROBE.format(paths=paths, body=body)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(result.stderr.strip().splitlines()[-1])
        times.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per handler")
    args = parser.parse_args()

    layers = build_all()
    python = python312()
    boto3 = str(runtime_boto3())
    layer_mb = {name: tree_size(path) for name, path in layers.items()}
    layer_zip = {name: zipped_size(path) for name, path in layers.items()}
    print(f"layers (python{PYTHON_VERSION}, {PLATFORMS[0]}):")
    for name in layers:
        print(
            f"  {name:9s} {layer_mb[name] / MB:7.1f} MB unzipped {layer_zip[name] / MB:6.1f} MB zip"
        )

    def site(name: str) -> str:
        return str(layers[name] / "python")

    bare = cold_seconds(python, [], "pass", args.repeat)
    numpy_s = cold_seconds(python, [site("numeric")], "import numpy", args.repeat)
    ort_s = cold_seconds(python, [site("numeric")], "import onnxruntime", args.repeat)
    print(f"reference: empty body {bare:.3f} s, numpy {numpy_s:.2f} s (DESIGN 0.20), "
          f"onnxruntime {ort_s:.2f} s (DESIGN 0.28)")  # fmt: skip

    budget = LAMBDA_UNZIPPED_LIMIT - SAFETY_MARGIN
    header = f"{'function':15s} {'layers':28s} {'unzipped':>9s} {'zip':>7s} {'import':>8s}"
    print(header)
    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    for name in function_names():
        code = FUNCTIONS_DIR / name
        chosen = layers_of(name)
        unzipped = tree_size(code) + sum(layer_mb[layer] for layer in chosen)
        zipped = zipped_size(code) + sum(layer_zip[layer] for layer in chosen)
        paths = [str(code), *[site(layer) for layer in chosen], boto3]
        body = _LOAD_HANDLER.format(path=str(code / "handler.py"))
        try:
            seconds: float | None = cold_seconds(python, paths, body, args.repeat)
        except RuntimeError as error:
            seconds = None
            failures.append(f"{name}: {error}")
        shown = f"{seconds:7.2f}s" if seconds is not None else "  FAILED"
        print(f"{name:15s} {'+'.join(chosen):28s} {unzipped / MB:7.1f}MB {zipped / MB:5.1f}MB "
              f"{shown}")  # fmt: skip
        if unzipped > budget:
            failures.append(f"{name}: {unzipped / MB:.1f} MB > {budget / MB:.0f} MB budget")
        rows.append({"function": name, "layers": chosen, "unzipped": unzipped,
                     "zipped": zipped, "import_s": seconds})  # fmt: skip
    slow = [r["function"] for r in rows if r["import_s"] and r["import_s"] > TARGET_IMPORT_S]
    print(f"largest function+layers: {max(r['unzipped'] for r in rows) / MB:.1f} MB of "
          f"{LAMBDA_UNZIPPED_LIMIT / MB:.0f} MB; handlers over {TARGET_IMPORT_S:.0f} s: "
          f"{', '.join(slow) or 'none'}")  # fmt: skip
    (BUILD_DIR / "package-report.json").write_text(json.dumps(rows, indent=1))
    if failures:
        raise SystemExit("\n".join(failures))


if __name__ == "__main__":
    main()
