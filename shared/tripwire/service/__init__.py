"""Use cases the handlers and the CLI call: backtest (detect, scan and the rest follow)."""
