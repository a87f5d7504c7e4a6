"""The HTTP API: route declarations and the Powertools resolver apps behind them."""
