"""GET /alerts/active · GET /alerts/{id} · PATCH .../acknowledge · PATCH .../resolve ·
POST .../feedback."""

from tripwire.api.alerts import app
from tripwire.api.lambda_entry import lambda_handler

handler = lambda_handler(app)
