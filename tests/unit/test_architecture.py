"""The layers of DESIGN.md hold: contracts kept, no import cycle, Lambdas free of CLI code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
# What a Lambda must never load: the CLI and its replay, the demo, the local stack, and
# training (scikit-learn, torch).
NOT_IN_LAMBDA = (
    "tripwire.cli",
    "tripwire.service.backtest",
    "tripwire.demo",
    "tripwire.local",
    "tripwire.training",
    "sklearn",
    "torch",
)


def test_the_layer_contracts_are_kept() -> None:
    # In a child process: import-linter's CLI reconfigures logging (``dictConfig``), which
    # would disable every logger already created in this test process.
    linter = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(linter), "--config", "pyproject.toml", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_module_imports_itself_through_a_cycle() -> None:
    imports = grimp.build_graph("tripwire", cache_dir=None)
    graph = nx.DiGraph(
        (module, imported)
        for module in imports.modules
        for imported in imports.find_modules_directly_imported_by(module)
        # a package importing its own submodules (``__init__`` re-exports) is no cycle
        if not imported.startswith(module + ".") and not module.startswith(imported + ".")
    )
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert cycles == []


def test_lambda_handlers_load_no_cli_replay_demo_or_training_code() -> None:
    handlers = sorted(ROOT.glob("functions/*/handler.py"))
    assert len(handlers) >= 10
    leaked = [m for m in _loaded_by(handlers) if m.startswith(NOT_IN_LAMBDA)]
    assert leaked == []


def test_scanning_reads_no_files_and_replays_nothing() -> None:
    # statically, function-level imports included: what the worker may ever load to scan
    imports = grimp.build_graph("tripwire", cache_dir=None)
    reached = imports.find_upstream_modules("tripwire.service.scan")
    assert "tripwire.service.scoring" in reached
    # training only where a model is fitted (``train_market``, a detector's ``fit``)
    assert sorted(m for m in reached if m.startswith(NOT_IN_LAMBDA)) == [
        "tripwire.training.isolation_forest",
        "tripwire.training.lstm_autoencoder",
        "tripwire.training.market",
    ]
    # ingest only through the market sync: the data source, then the OHLCV import's write
    # half (``import_bars``) — the modules it lives beside, never another report reader
    ingest = {m for m in reached if m.startswith("tripwire.ingest")}
    assert imports.find_upstream_modules("tripwire.service.market_sync") >= ingest
    assert ingest <= {
        "tripwire.ingest.market_source",
        "tripwire.ingest.ohlcv_csv",
        "tripwire.ingest.importer",
        "tripwire.ingest.csv_files",
        "tripwire.ingest.tables",
        "tripwire.ingest.dates",
        "tripwire.ingest.errors",
        "tripwire.ingest.rollup",
    }


def test_the_ads_sync_reads_only_the_api_report_and_its_shared_import() -> None:
    # The worker's sync step (service.ads_sync, reached from service.fanout): the Ads API
    # client, the v3 report parser (ads_api) and what it shares with the console reader
    # (ads_console: ReportRows and import_report; its XLSX reading imports openpyxl only
    # inside the function that reads a workbook) — the same import path a dropped file
    # takes. Allowed deliberately; nothing of the CLI, the demo or the local stack.
    imports = grimp.build_graph("tripwire", cache_dir=None)
    reached = imports.find_upstream_modules("tripwire.service.ads_sync")
    assert sorted(m for m in reached if m.startswith(NOT_IN_LAMBDA)) == []
    assert {m for m in reached if m.startswith("tripwire.ingest")} == {
        "tripwire.ingest.ads_source",
        "tripwire.ingest.ads_api",
        "tripwire.ingest.ads_console",
        "tripwire.ingest.importer",
        "tripwire.ingest.csv_files",
        "tripwire.ingest.tables",
        "tripwire.ingest.dates",
        "tripwire.ingest.errors",
        "tripwire.ingest.rollup",
    }
    # the scheduler lists connections from the store: its cold start loads no sync code
    loaded = _loaded_by([ROOT / "functions" / "scan_scheduler" / "handler.py"])
    assert [
        m for m in loaded if m.startswith(("tripwire.service.ads_sync", "tripwire.ingest"))
    ] in (
        [],
        ["tripwire.ingest", "tripwire.ingest.market_source"],  # fanout's ProviderError
    )


def _loaded_by(handlers: list[Path]) -> list[str]:
    """Every module loaded by importing these handler files, in a fresh interpreter."""
    script = (
        "import importlib.util, json, sys\n"
        "for path in sys.argv[1:]:\n"
        "    spec = importlib.util.spec_from_file_location('handler', path)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", script, *map(str, handlers)],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "PYTHONPATH": str(ROOT / "shared")},
    ).stdout
    return list(json.loads(out.splitlines()[-1]))
