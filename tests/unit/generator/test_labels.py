"""Ground-truth labels: complete for fraud, sparse for legit, and late like real reports."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from fraudguard.generator.labels import LABEL_FIELDS
from fraudguard.generator.sinks import labels_table


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_every_fraud_has_one_fraud_label_with_its_scenario(month, fraud_frame):
    fraud_labels = {lab.txn_id: lab for lab in month.labels if lab.label == "fraud"}
    assert len(fraud_labels) == len(fraud_frame)
    for row in fraud_frame.itertuples():
        label = fraud_labels[row.txn_id]
        assert label.scenario == row.scenario
        assert label.card_id == row.card_id
        assert (label.merchant_id, label.terminal_id) == (row.merchant_id, row.terminal_id)
        assert label.event_time == row.event_time


def test_a_small_sample_of_legit_transactions_is_cleared(month):
    legit = [lab for lab in month.labels if lab.label == "legit"]
    share = len(legit) / (month.frame.scenario == "none").sum()
    assert 0.001 < share < 0.004
    assert {lab.scenario for lab in legit} == {"none"}
    assert {lab.source for lab in legit} == {"investigation"}
    frame = month.frame.set_index("txn_id")
    assert (frame.loc[[lab.txn_id for lab in legit], "scenario"] == "none").all()


def test_labels_are_reported_days_later(month):
    fraud = [lab for lab in month.labels if lab.label == "fraud"]
    delay_days = np.array([_ms(lab.reported_at) - _ms(lab.event_time) for lab in fraud]) / 864e5
    assert (delay_days > 0).all()
    assert 3.0 < np.median(delay_days) < 8.0
    assert delay_days.max() <= 60.0 + 1e-6
    assert {lab.source for lab in fraud} == {"chargeback", "investigation"}
    assert all(lab.reported_ms == _ms(lab.reported_at) for lab in month.labels)


def test_one_incident_is_reported_at_once(month):
    reports: dict[tuple[str, str], set[str]] = {}
    for lab in month.labels:
        if lab.label == "fraud":
            reports.setdefault((lab.card_id, lab.scenario), set()).add(lab.reported_at)
    assert all(len(times) == 1 for times in reports.values())


def test_label_table_is_sorted_by_report_time(month):
    table = labels_table(month.labels)
    assert table.column_names == list(LABEL_FIELDS)
    assert {"card_id", "merchant_id", "terminal_id"} <= set(LABEL_FIELDS)
    reported = table.column("reported_at").to_pylist()
    assert reported == sorted(reported)
