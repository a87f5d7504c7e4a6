"""Impact: what an anomaly costs, from expected against actual, in the profile's currency."""

from __future__ import annotations

import numpy as np
import pytest

from tripwire.detection.impact import impact
from tripwire.domain.alerts import Impact, entity_label, total_impact
from tripwire.features.ppc import INDEX


def row(spend: float, sales: float, **others: float) -> np.ndarray:
    values = np.zeros(len(INDEX))
    values[INDEX["spend"]], values[INDEX["sales"]] = spend, sales
    for name, value in others.items():
        values[INDEX[name]] = value
    return values


def moved(feature: str) -> list[dict[str, object]]:
    return [{"feature": feature, "contribution": 3.0}, {"feature": "ctr", "contribution": 0.1}]


def test_spend_up_with_sales_following_in_proportion_wastes_nothing() -> None:
    found = impact(row(100, 400), row(200, 800), moved("spend"), provisional=False, currency="USD")
    assert found.wasted_spend == 0
    assert found.sales_at_risk == 0
    assert found.revenue_impact == 0
    assert found.performance_degradation == pytest.approx(1.0)  # spend doubled


def test_spend_up_without_sales_is_all_waste() -> None:
    found = impact(row(100, 400), row(250, 400), moved("spend"), provisional=False, currency="EUR")
    assert found.wasted_spend == 150
    assert found.sales_at_risk == 0
    assert found.revenue_impact == 150
    assert found.currency == "EUR"


def test_sales_following_half_way_waste_the_other_half_of_the_extra_spend() -> None:
    # 100 extra spend at the expected ROAS 4 owed 400 more sales; 200 came: half is waste
    found = impact(row(100, 400), row(200, 600), moved("spend"), provisional=False, currency="USD")
    assert found.wasted_spend == 50


def test_spend_where_no_sales_were_expected_is_waste_unless_sales_came() -> None:
    assert impact(row(0, 0), row(30, 0), [], provisional=False, currency="USD").wasted_spend == 30
    assert impact(row(0, 0), row(30, 5), [], provisional=False, currency="USD").wasted_spend == 0


def test_a_sales_drop_puts_the_difference_at_risk() -> None:
    found = impact(row(100, 500), row(100, 120), moved("sales"), provisional=False, currency="USD")
    assert found.sales_at_risk == 380
    assert found.wasted_spend == 0
    assert not found.provisional
    assert found.measure == "sales"
    assert found.performance_degradation == pytest.approx(-0.76)


def test_a_sales_drop_on_a_provisional_day_is_marked_provisional() -> None:
    found = impact(row(100, 500), row(100, 120), moved("sales"), provisional=True, currency="USD")
    assert found.provisional
    assert found.sales_at_risk == 380


def test_nothing_at_risk_is_never_provisional() -> None:
    found = impact(row(100, 500), row(100, 600), moved("sales"), provisional=True, currency="USD")
    assert not found.provisional
    assert found.revenue_impact == 0


def test_impressions_collapsing_to_zero_degrade_by_minus_one() -> None:
    expected, actual = row(50, 200, impressions=1000), row(0, 0, impressions=0)
    found = impact(expected, actual, moved("impressions"), provisional=False, currency="USD")
    assert found.performance_degradation == -1.0
    assert found.sales_at_risk == 200
    assert found.revenue_impact == 200


def test_periods_add_up_and_keep_the_worst_degradation() -> None:
    one = Impact(revenue_impact=10, wasted_spend=10, performance_degradation=0.5, measure="spend")
    two = Impact(revenue_impact=5, sales_at_risk=5, provisional=True, performance_degradation=-0.9)
    total = total_impact([one, two])
    assert total is not None
    assert (total.revenue_impact, total.wasted_spend, total.sales_at_risk) == (15, 10, 5)
    assert total.provisional
    assert total.performance_degradation == -0.9
    assert total_impact([]) is None


def test_an_entity_reads_by_its_name_with_its_id_secondary() -> None:
    label = entity_label("campaign", "A1-C24", "Garden | SP | Broad | Tools")
    assert label == "campaign 'Garden | SP | Broad | Tools' (A1-C24)"
    assert entity_label("campaign", "A1-C24") == "campaign A1-C24"
    assert entity_label("account", "A1", "A1") == "account A1"  # not "account 'A1' (A1)"
