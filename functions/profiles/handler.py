"""DELETE /profiles/{id}: the profile and all of its data."""

from tripwire.api.lambda_entry import lambda_handler
from tripwire.api.profiles import app

handler = lambda_handler(app)
