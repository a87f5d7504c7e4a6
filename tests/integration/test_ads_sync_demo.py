"""The demo's way in, on the local stack: its advertiser's profile, connected over the API,
is filled by daily schedule ticks alone — the history on the first sync (the generator's
account with its hierarchy, as the stand-in serves it), then restatements."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from tripwire.demo.ads_sync_demo import connect, demo_book, stored_ids, sync_tick
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.store.catalog import CatalogStore
from tripwire.store.connections import ConnectionStore


def test_the_demo_connects_its_advertiser_and_the_schedule_fills_it(
    local_stack: LocalStack,
) -> None:
    tenant = f"adsdemo-{uuid.uuid4().hex[:8]}"
    token = issue_token(tenant, "demo", directory=local_stack.directory)
    book = demo_book(keywords=200, days=70, seed=11, campaigns=8)
    profile = book.account.config.account_id
    api, provider = local_stack.api_url, local_stack.ads
    kept = provider.book
    provider.book = book
    try:
        lines = [connect(tenant, api, token, provider, profile, days=70)]
        day = book.last_day + dt.timedelta(days=1)
        for label, watch in (
            ("first sync", None),
            ("next day", book.last_day),
            ("after", book.last_day),
        ):
            lines += sync_tick(
                tenant, api, token, provider, local_stack.scan, profile, day, label, watch
            ).lines
            day += dt.timedelta(days=1)
    finally:
        provider.book = kept
        provider.today = None
        ConnectionStore().delete(tenant, profile)  # every daily tick syncs connected profiles
    text = "\n".join(lines)
    print(text)
    assert "→ connected" in lines[0] and "credentials in the answer: False" in lines[0], text
    assert "first sync reaches back 70 days" in lines[0], text
    # 70 days × 200 keywords, in reports of at most 31 days: 31 + 31 + 8
    assert f"sync {200 * 70:,} rows" in lines[1], text
    assert "report requests 3" in lines[1] and "downloads 3" in lines[1], text
    assert "report requests 1" in lines[2], text  # the last 3 days again, in one report
    provisional, restated = (
        float(x.replace(",", "")) for x in re.findall(r"sales ([\d,.]+) .*→ ([\d,.]+)", text)[0]
    )
    assert restated > provisional  # the stand-in's later pull has more attributed sales

    # The generator's hierarchy, every entity under the id the sync gives it.
    _, entities = CatalogStore().get_hierarchy(tenant, profile)
    stored = {e.entity_id: e for e in entities}
    ids = stored_ids(book)
    for made in book.account.entities:
        found = stored[ids[made["entity_id"]]]
        assert found.entity_type == made["entity_type"]
        assert (found.parent_id or "") == (ids[made["parent_id"]] if made["parent_id"] else "")
        if made["entity_type"] == "campaign":
            assert found.name == made["name"]
        if made["entity_type"] == "keyword":  # text, the campaign's match type, the ad group
            campaign = next(e for e in book.account.entities if e["entity_id"] == made["parent_id"])
            match = campaign["name"].split(" | ")[2].upper()
            assert found.name == f"{made['name']} [{match}] — Ad group 1"
    assert len(stored) == len(book.account.entities)
