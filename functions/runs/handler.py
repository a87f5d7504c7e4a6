"""GET /runs · GET /runs/{id} · GET /models (and the backfill routes, when present)."""

from tripwire.api.lambda_entry import lambda_handler
from tripwire.api.runs import app

handler = lambda_handler(app)
