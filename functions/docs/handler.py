"""GET /openapi.json · GET /docs (no auth)."""

from tripwire.api.docs import app
from tripwire.api.lambda_entry import lambda_handler

handler = lambda_handler(app)
