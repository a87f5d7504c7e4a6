"""Training's rules, as pure logic: labelled patterns and their boundary, the "not worse"
gate at its boundary, labelled anomalies kept out of the training history, when a profile
is due, and a failed job's reason."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pytest

from tripwire.detection.labels import SAME_PATTERN_FACTOR, LabelledPatterns, pattern_kind
from tripwire.detection.pipeline import PipelineConfig
from tripwire.domain.alerts import Feedback
from tripwire.domain.entities import Entity
from tripwire.domain.runs import HeldBackQuality
from tripwire.service.series import ProfileSeries
from tripwire.service.train import HELD_BACK_DAYS, Labels, clean_anomalies, not_worse
from tripwire.service.training_runs import FIRST_TRAINING_DAYS, _reason
from tripwire.store.training import TrainingEntry


def _quality(false: int, recall: float | None = None) -> HeldBackQuality:
    return HeldBackQuality(
        entity_days=1000,
        alerts=false,
        false_alerts=false,
        false_per_1k_entity_days=float(false),
        labelled_anomalies=0 if recall is None else 4,
        recall=recall,
    )


def test_the_kind_is_the_largest_attribution_with_its_direction() -> None:
    explanation = [
        {"feature": "ctr", "contribution": 0.2, "direction": "below"},
        {"feature": "clicks", "contribution": -0.5, "direction": "above"},
    ]
    assert pattern_kind(explanation) == "clicks_above"
    assert pattern_kind([]) == ""


def test_a_labelled_pattern_stays_quiet_up_to_ten_times_rarer() -> None:
    labels = LabelledPatterns.of([("K1", "clicks_above", 1e-4)])
    bar = 1e-4 * SAME_PATTERN_FACTOR
    assert labels.quiet("K1", "clicks_above", bar)  # exactly at the bar: the same pattern
    assert not labels.quiet("K1", "clicks_above", np.nextafter(bar, 0))  # rarer: alerts
    assert not labels.quiet("K1", "spend_below", 1e-4)  # another kind on the same entity
    assert not labels.quiet("K2", "clicks_above", 1e-4)  # another entity


def test_the_lowest_bar_of_a_pattern_wins_and_survives_export() -> None:
    labels = LabelledPatterns.of([("K1", "clicks_above", 1e-4), ("K1", "clicks_above", 1e-6)])
    assert labels.quiet_from == {("K1", "clicks_above"): pytest.approx(1e-7)}
    again = LabelledPatterns.from_list(json.loads(json.dumps(labels.to_list())))
    assert again == labels


def test_the_first_model_is_published() -> None:
    assert not_worse(_quality(50), None) == (True, "first model of the profile")


def test_more_false_alerts_than_two_sigma_of_the_current_count_is_worse() -> None:
    current = _quality(9)  # allowed: 9 + 2 × √9 = 15
    assert not_worse(_quality(15), current)[0]
    published, why = not_worse(_quality(16), current)
    assert not published and "16 false alerts" in why
    assert not not_worse(_quality(3), _quality(0))[0]  # at least one alert of slack: 2


def test_finding_fewer_labelled_anomalies_is_worse() -> None:
    assert not_worse(_quality(0, recall=0.75), _quality(5, recall=0.75))[0]
    assert not not_worse(_quality(0, recall=0.5), _quality(5, recall=0.75))[0]
    assert not not_worse(_quality(0, recall=None), _quality(5, recall=0.75))[0]


def test_a_labelled_anomaly_day_is_replaced_by_its_weekday_median() -> None:
    raw = np.zeros((1, 28, 5))
    raw[0, :, 0] = np.arange(28)  # weekday 0 of the window: days 0, 7, 14, 21
    raw[0, 14] = 1000.0  # the incident
    raw[0, 21, 0] = 500.0  # also labelled: left out of the median
    cleaned = clean_anomalies(raw, {(0, 14), (0, 21)})
    assert cleaned[0, 14, 0] == np.median([0.0, 7.0])
    assert (cleaned[0, :14] == raw[0, :14]).all()
    # an offset window: labels index the loaded series, the history starts later
    assert clean_anomalies(raw[:, 7:], {(0, 14)}, offset=7)[0, 7, 0] == np.median([7.0, 500.0])


def test_labels_outside_the_window_or_catalogue_are_not_used() -> None:
    series = ProfileSeries(
        [Entity(entity_id="K1", entity_type="keyword", parent_id="C1")],
        datetime.date(2026, 3, 1),
        np.zeros((1, 10, 5)),
    )

    def label(entity: str, day: int, is_anomaly: bool) -> Feedback:
        return Feedback(
            tenant_id="t",
            profile_id="A1",
            alert_id=f"al-{entity}-{day}",
            entity_id=entity,
            entity_type="keyword",
            interval="1d",
            period=datetime.datetime(2026, 3, 1) + datetime.timedelta(days=day),
            score=0.999,
            is_anomaly=is_anomaly,
            kind="clicks_above",
            by="ana",
            at=datetime.datetime(2026, 3, 20),
        )

    labels = Labels.of(
        [label("K1", 2, True), label("K1", 3, False), label("K1", 10, True), label("K9", 2, False)],
        series,
    )
    assert labels.anomalies == {(0, 2)}
    assert labels.false_alerts == [("K1", "clicks_above", pytest.approx(0.001))]
    assert (labels.used.anomaly, labels.used.not_anomaly) == (1, 1)


def test_a_profile_is_due_every_days_after_its_last_training() -> None:
    entry = TrainingEntry("t", "A1", every_days=7, last_started=datetime.date(2026, 3, 1))
    assert not entry.due(datetime.date(2026, 3, 7))
    assert entry.due(datetime.date(2026, 3, 8))
    assert TrainingEntry("t", "A1").due(datetime.date(2026, 3, 1))  # never trained


def test_first_training_waits_for_what_training_needs_plus_the_held_back_days() -> None:
    config = PipelineConfig()
    needed = config.min_history + config.history_periods // 2 + 1
    assert needed + HELD_BACK_DAYS == FIRST_TRAINING_DAYS


def test_a_failed_training_job_reports_sagemakers_failure_reason() -> None:
    cause = json.dumps({"TrainingJobName": "tw-run-1", "FailureReason": "AlgorithmError: OOM"})
    assert _reason({"Error": "States.TaskFailed", "Cause": cause}) == (
        "States.TaskFailed: AlgorithmError: OOM"
    )
    assert _reason({"Error": "ValueError", "Cause": "bad"}) == "ValueError: bad"
