"""POST /anomalies/{id}/verify."""

from tripwire.api.lambda_entry import lambda_handler
from tripwire.api.verify import app

handler = lambda_handler(app)
