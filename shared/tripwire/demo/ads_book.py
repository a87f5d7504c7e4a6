"""The rows the local Amazon Ads stand-in serves: the demo generator's account as the
``spTargeting`` report rows Amazon would return (final figures; the stand-in makes the
recent days provisional).

Ids are the generator's: ``campaignId`` its campaign id, ``adGroupId`` one ad group per
campaign (``<campaign>-G1``), ``keywordId`` the keyword id, ``portfolioId`` the portfolio's
— so a sync stores the same hierarchy as the demo's files, under ``cp-`` / ``kw-`` / ``pf-``
ids (``ingest.ads_api``). Every keyword has a row every day, as the generator draws them.
Only the columns a real ``spTargeting`` report has: campaign and ad group names, keyword
text and match type (the campaign's, which its name carries), but no portfolio name — the
stand-in lists those (``portfolios``), as Amazon's ``POST /portfolios/list`` does.
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
    def _targets(self) -> dict[str, dict[str, Any]]:
        """keyword id -> the fields of its rows that do not change by day (its ids and names;
        the match type its campaign's, from names like "Kitchen | SP | Exact | …")."""
        entities = {e["entity_id"]: e for e in self.account.entities}
        found = {}
        for keyword in entities.values():
            if keyword["entity_type"] != "keyword":
                continue
            campaign = entities[keyword["parent_id"]]
            parent = entities.get(campaign["parent_id"])
            in_portfolio = parent is not None and parent["entity_type"] == "portfolio"
            parts = campaign["name"].split(" | ")
            match = parts[2].upper() if len(parts) > 2 else "BROAD"
            found[keyword["entity_id"]] = {
                "portfolioId": parent["entity_id"] if parent and in_portfolio else None,
                "campaignId": campaign["entity_id"],
                "campaignName": campaign["name"],
                "campaignBudgetCurrencyCode": self.currency,
                "adGroupId": f"{campaign['entity_id']}-G1",
                "adGroupName": "Ad group 1",
                "keywordId": keyword["entity_id"],
                "keyword": keyword["name"],
                "targeting": keyword["name"],
                "matchType": match,
                "keywordType": match,
            }
        return found

    def portfolios(self, ads_profile: str) -> dict[str, str]:
        """Portfolio id → name, what ``POST /portfolios/list`` answers for the profile."""
        if ads_profile != self.ads_profile_id:
            return {}
        return {
            e["entity_id"]: e["name"]
            for e in self.account.entities
            if e["entity_type"] == "portfolio"
        }

    def __call__(self, ads_profile: str, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
        if ads_profile != self.ads_profile_id:
            return []
        metrics = self.account.metrics
        days = metrics["date"]
        chosen = metrics[(days >= np.datetime64(first)) & (days <= np.datetime64(last))]
        targets = self._targets
        columns = zip(
            chosen["date"].astype(str).tolist(),
            chosen["entity_id"].tolist(),
            chosen["impressions"].tolist(),
            chosen["clicks"].tolist(),
            chosen["spend"].tolist(),
            chosen["sales"].tolist(),
            chosen["orders"].tolist(),
            strict=True,
        )
        return [
            {
                "date": date,
                **targets[keyword],
                "impressions": impressions,
                "clicks": clicks,
                "cost": cost,
                "sales7d": sales,
                "purchases7d": orders,
            }
            for date, keyword, impressions, clicks, cost, sales, orders in columns
        ]
