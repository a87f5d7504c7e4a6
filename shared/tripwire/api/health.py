"""The health function: liveness of the API, no AWS calls, no auth."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver


def package_version() -> str:
    try:
        return version("tripwire")
    except PackageNotFoundError:  # the package copied into a layer without its metadata
        return "unknown"


app = APIGatewayHttpResolver()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "service": "tripwire", "version": package_version()}
