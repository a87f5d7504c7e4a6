"""POST /metrics · GET /imports."""

from tripwire.api.ingest import app
from tripwire.api.lambda_entry import lambda_handler

handler = lambda_handler(app)
