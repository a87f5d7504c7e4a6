"""GET /statistics · GET /entities/{id}/series · GET /entities/{id}/profile."""

from tripwire.api.lambda_entry import lambda_handler
from tripwire.api.stats import app

handler = lambda_handler(app)
