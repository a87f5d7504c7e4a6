"""The demo's Amazon Ads section, on the local stack: a profile connected over the API is
filled by schedule ticks alone — its history on the first sync, then restatements."""

from __future__ import annotations

import re
import uuid

from tripwire.demo.ads_sync_demo import PROFILE, demo_book, show_ads_sync
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.store.catalog import CatalogStore


def test_the_demo_connects_a_profile_and_the_schedule_fills_it(local_stack: LocalStack) -> None:
    tenant = f"adsdemo-{uuid.uuid4().hex[:8]}"
    token = issue_token(tenant, "demo", directory=local_stack.directory)
    book = demo_book()
    kept = local_stack.ads.book
    local_stack.ads.book = book
    try:
        lines = list(
            show_ads_sync(tenant, local_stack.api_url, token, local_stack.ads, local_stack.scan)
        )
    finally:
        local_stack.ads.book = kept
        local_stack.ads.today = None
    text = "\n".join(lines)
    assert "→ connected" in lines[0] and "credentials in the answer: False" in lines[0]
    # 62 days × 200 keywords, in two 31-day reports
    first = f"{book.config.keywords * 62:,} rows"
    assert first in lines[1] and "report requests 2" in lines[1] and "downloads 2" in lines[1]
    assert "report requests 1" in lines[2], text
    provisional, restated = (
        float(x.replace(",", "")) for x in re.findall(r"sales ([\d,.]+) .*→ ([\d,.]+)", text)[0]
    )
    assert restated > provisional  # the stand-in's later pull has more attributed sales
    _, entities = CatalogStore().get_hierarchy(tenant, PROFILE)
    assert len([e for e in entities if e.entity_type == "keyword"]) == book.config.keywords
