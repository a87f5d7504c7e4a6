"""The rows the local Amazon Ads stand-in serves: the demo generator's account as the
``spTargeting`` report rows Amazon would return (final figures; the stand-in makes the
recent days provisional).

Ids are the generator's: ``campaignId`` its campaign id, ``adGroupId`` one ad group per
campaign (``<campaign>-G1``), ``keywordId`` the keyword id, ``portfolioId`` the portfolio's
— so a sync stores the same hierarchy as the demo's files, under ``cp-`` / ``kw-`` / ``pf-``
ids (``ingest.ads_api``). Every keyword has a row every day, as the generator draws them.
Only the columns a real ``spTargeting`` report has: campaign and ad group names, keyword
text and match type (the campaign's, which its name carries), but no portfolio name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from tripwire.demo.account import GeneratedAccount
from tripwire.demo.config import GeneratorConfig
from tripwire.demo.generator import generate


@dataclass(frozen=True)
class SyntheticAdsBook:
    """One synthetic advertiser, served under ``ads_profile_id``; its last generated day is
    ``config.start + config.days - 1``."""

    config: GeneratorConfig = field(default_factory=GeneratorConfig)
    ads_profile_id: str = "1234567890"
    currency: str = "USD"

    @cached_property
    def account(self) -> GeneratedAccount:
        return generate(self.config)

    @property
    def last_day(self) -> dt.date:
        return self.config.start + dt.timedelta(days=self.account.config.days - 1)

    @cached_property
    def _parents(self) -> dict[str, dict[str, str]]:
        return {e["entity_id"]: e for e in self.account.entities}

    @cached_property
    def _match_types(self) -> dict[str, str]:
        """campaign id -> its keywords' match type, from names like "Kitchen | SP | Exact | …"."""
        found = {}
        for entity in self.account.entities:
            if entity["entity_type"] == "campaign":
                parts = entity["name"].split(" | ")
                found[entity["entity_id"]] = parts[2].upper() if len(parts) > 2 else "BROAD"
        return found

    def __call__(self, ads_profile: str, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
        if ads_profile != self.ads_profile_id:
            return []
        metrics = self.account.metrics
        days = metrics["date"]
        chosen = metrics[(days >= np.datetime64(first)) & (days <= np.datetime64(last))]
        entities = self._parents
        matches = self._match_types
        rows = []
        for row in chosen:
            keyword = entities[str(row["entity_id"])]
            campaign = entities[keyword["parent_id"]]
            portfolio = entities.get(campaign["parent_id"])
            is_portfolio = portfolio is not None and portfolio["entity_type"] == "portfolio"
            rows.append(
                {
                    "date": str(row["date"]),
                    "portfolioId": portfolio["entity_id"] if is_portfolio and portfolio else None,
                    "campaignId": campaign["entity_id"],
                    "campaignName": campaign["name"],
                    "campaignBudgetCurrencyCode": self.currency,
                    "adGroupId": f"{campaign['entity_id']}-G1",
                    "adGroupName": "Ad group 1",
                    "keywordId": keyword["entity_id"],
                    "keyword": keyword["name"],
                    "targeting": keyword["name"],
                    "matchType": matches[campaign["entity_id"]],
                    "keywordType": matches[campaign["entity_id"]],
                    "impressions": int(row["impressions"]),
                    "clicks": int(row["clicks"]),
                    "cost": float(row["spend"]),
                    "sales7d": float(row["sales"]),
                    "purchases7d": int(row["orders"]),
                }
            )
        return rows
