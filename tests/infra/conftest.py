"""One in-process synthesis of the whole stack per test session (a synth costs ~40 s here).

Tests synthesise with ``tripwire:layerAssets=recipe``: each layer's asset is its recipe
folder instead of ~230 MB of built wheels, so the template has the same shape (the same
layers on the same functions) without a pip download. ``make synth`` builds the real layers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template
from infra.app import build, cdk_json_context
from infra.stack import TripwireStack

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ALERT_EMAIL = "oncall@example.com"
SMS_NUMBER = "+819012345678"  # texted for acme/A1's critical alerts (tripwire:smsSubscriptions)


def synth_context() -> dict[str, object]:
    context = cdk_json_context()
    context["tripwire:layerAssets"] = "recipe"
    context["tripwire:alertEmail"] = ALERT_EMAIL
    context["tripwire:smsSubscriptions"] = {SMS_NUMBER: ["acme/A1"]}
    return context


@dataclass(frozen=True)
class Synth:
    stack: TripwireStack
    template: Template
    resources: dict[str, dict[str, Any]]
    outdir: Path


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build(App(context=synth_context(), outdir=str(outdir)))
    app.synth()  # raises if cdk-nag finds an unacknowledged error
    template = Template.from_stack(stack)
    return Synth(stack, template, template.to_json()["Resources"], outdir)
