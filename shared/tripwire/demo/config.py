"""The generator's settings and the sizes it actually uses once they are made consistent."""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class GeneratorConfig:
    seed: int = 7  # same seed → byte-identical files
    keywords: int = 1000
    days: int = 120
    start: datetime.date = datetime.date(2026, 1, 1)
    portfolios: int = 4
    campaigns: int = 40  # keywords spread unevenly over them (~5..60 each at the defaults)
    incident_days: int = 30  # incidents only in these last days; the history before is clean
    account_id: str = "A1"
    # Also plant incidents that break relations between measures (incidents.RELATION_KINDS);
    # off by default so a seed's files stay byte-identical to earlier releases.
    relation_incidents: bool = False
    # Model Amazon's attribution lag (``restatements``): first-seen orders and sales of the
    # recent days, conversion incidents allowed on those provisional days, and conversions
    # that stop for 3-5 days on busy keywords. Off by default (seeds stay byte-identical).
    attribution_lag: bool = False
    # Plant recurring behaviours a PPC manager knows are fine (``recurring``: a deal every
    # few days, a payday bid rule) in the history and the incident period alike; not
    # incidents. Off by default (seeds stay byte-identical).
    recurring_patterns: bool = False


def effective_config(config: GeneratorConfig) -> GeneratorConfig:
    """Reduce sizes that cannot all hold; raise ``ValueError`` on nonsense."""
    # Ids go unquoted into metrics.csv: keep them to a safe alphabet.
    if not re.fullmatch(r"[A-Za-z0-9_]+", config.account_id):
        raise ValueError("account_id must be letters, digits or underscores")
    if config.keywords < 1 or config.campaigns < 1 or config.days < 2:
        raise ValueError("need at least one keyword, one campaign and two days")
    if config.portfolios < 0 or config.incident_days < 0:
        raise ValueError("portfolios and incident_days cannot be negative")
    campaigns = min(config.campaigns, config.keywords)
    incident_days = config.incident_days
    if incident_days >= config.days:  # keep a clean history to learn the baseline from
        incident_days = config.days // 2
    return dataclasses.replace(
        config,
        campaigns=campaigns,
        portfolios=min(config.portfolios, campaigns),
        incident_days=incident_days,
    )
