"""POST /detect."""

from tripwire.api.detect import app
from tripwire.api.lambda_entry import lambda_handler

handler = lambda_handler(app)
