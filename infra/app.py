"""Entry point of the CDK app (``cdk.json`` runs it; ``python infra/app.py`` synthesises offline).

cdk-nag v3 runs as a CDK validation plugin: an unacknowledged AwsSolutions error makes
``app.synth()`` fail, and the findings land in ``cdk.out/validation-report.json``.
"""

# ruff: noqa: E402  (the path and environment must be set before the imports below)
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# Run as a script, Python puts infra/ (not the repo root) on sys.path; `infra.*` needs the root.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
# The jsii runtime prints a banner on every run under node 20; it is noise, not an error.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from infra.stack import TripwireStack

STACK_ID = "Tripwire"
CDK_JSON = Path(_ROOT) / "cdk.json"


def cdk_json_context() -> dict[str, object]:
    """The ``context`` of cdk.json: feature flags and tripwire settings.

    The cdk CLI passes it to the app itself; a direct ``python infra/app.py`` run or a test
    would otherwise synthesise with different feature flags (e.g. S3 access-log ACLs).
    """
    context: dict[str, object] = json.loads(CDK_JSON.read_text()).get("context", {})
    return context


def build(app: App | None = None, outdir: str | None = None) -> tuple[App, TripwireStack]:
    """The app with its one stack and cdk-nag attached, not yet synthesised (tests reuse it)."""
    if outdir is None and "CDK_OUTDIR" not in os.environ:
        # A direct run would synthesise into a temp dir; put it where `cdk` would.
        outdir = str(Path(_ROOT) / "cdk.out")
    # Context given here is the lowest layer: the CLI's (`cdk synth -c key=value`) still wins.
    app = app or App(context=cdk_json_context(), outdir=outdir)
    stack = TripwireStack(
        app,
        STACK_ID,
        description="Tripwire: serverless metric anomaly detection",
        # Environment-agnostic unless the CLI supplies an account/region (`cdk deploy`).
        env=Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
    )
    # Acknowledgments are also written into the template metadata: an audit trail in the artefact.
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    )
    return app, stack


def main() -> None:
    app, _ = build()
    app.synth()


if __name__ == "__main__":
    main()
