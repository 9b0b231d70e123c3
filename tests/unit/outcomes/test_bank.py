"""Outcomes as a bank sees them: which decisions produce a label, when, and that the same
decisions always give the same labels."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraudguard.config import OutcomesSettings
from fraudguard.generator.sinks import read_records
from fraudguard.outcomes import BankOutcomes, DecisionFacts, bank_labels, write_bank_labels
from fraudguard.outcomes.bank import DAY_MS, HOUR_MS, chargeback_delay_ms

SETTINGS = OutcomesSettings(review_capacity_per_day=30)


def decisions(n: int = 3_000, days: int = 5, seed: int = 1) -> tuple[list[DecisionFacts], set[str]]:
    """Random decisions over ``days`` with a third of them fraud, all three decisions, and a
    share of explored releases."""
    rng = random.Random(seed)
    facts, frauds = [], set()
    for i in range(n):
        txn = f"t{i:05d}"
        decision = rng.choice(["approve", "review", "block"])
        explored = decision == "approve" and rng.random() < 0.1
        propensity = 0.05 if explored else (0.95 if decision != "approve" else 1.0)
        facts.append(DecisionFacts(txn, f"c{i % 97}", decision, explored, propensity,
                                   rng.randrange(days * DAY_MS), 10.0 + i, f"m{i % 13}",
                                   f"m{i % 13}-t{i % 3}"))  # fmt: skip
        if rng.random() < 1 / 3:
            frauds.add(txn)
    return facts, frauds


def test_a_blocked_payment_never_gets_a_label_unless_it_was_explored() -> None:
    facts, frauds = decisions()
    labelled = {x.txn_id for x in bank_labels(facts, frauds, SETTINGS)}
    blocked = [f for f in facts if f.decision == "block"]
    explored_frauds = [f for f in facts if f.explored and f.txn_id in frauds]
    assert blocked and explored_frauds
    assert not labelled & {f.txn_id for f in blocked}
    # An explored release is an approval: its fraud comes back as a chargeback.
    assert {f.txn_id for f in explored_frauds} <= labelled


def test_approved_payments_get_chargebacks_for_fraud_and_nothing_for_legitimate() -> None:
    facts, frauds = decisions()
    by_id = {x.txn_id: x for x in bank_labels(facts, frauds, SETTINGS)}
    approved = [f for f in facts if f.decision == "approve"]
    for f in approved:
        label = by_id.get(f.txn_id)
        if f.txn_id in frauds:
            assert label is not None and (label.label, label.source) == ("fraud", "chargeback")
        else:
            assert label is None


def test_outcomes_are_deterministic_whatever_the_order_and_change_with_the_seed() -> None:
    facts, frauds = decisions()
    first = bank_labels(facts, frauds, SETTINGS)
    shuffled = list(facts)
    random.Random(5).shuffle(shuffled)
    assert bank_labels(shuffled, frauds, SETTINGS) == first
    other = bank_labels(facts, frauds, SETTINGS.model_copy(update={"seed": 7}))
    assert [x.reported_ms for x in other] != [x.reported_ms for x in first]


def test_one_record_at_a_time_gives_the_batch_s_labels() -> None:
    """What a streaming service does: one call per decision record, in event-time order."""
    facts, frauds = decisions()
    bank = BankOutcomes(SETTINGS)
    one_by_one = [
        bank.label_for(f, f.txn_id in frauds)
        for f in sorted(facts, key=lambda f: (f.ts_ms, f.txn_id))
    ]
    kept = sorted((x for x in one_by_one if x), key=lambda x: (x.reported_ms, x.txn_id))
    assert kept == bank_labels(facts, frauds, SETTINGS)


def test_review_capacity_is_respected_per_day() -> None:
    facts, frauds = decisions(n=4_000, days=4)
    labels = bank_labels(facts, frauds, SETTINGS)
    verdicts = [x for x in labels if x.source == "investigation"]
    reviews = [f for f in facts if f.decision == "review"]
    by_txn = {f.txn_id: f for f in facts}
    per_day: dict[int, int] = {}
    for x in verdicts:
        day = by_txn[x.txn_id].ts_ms // DAY_MS
        per_day[day] = per_day.get(day, 0) + 1
    assert len(reviews) > 4 * SETTINGS.review_capacity_per_day  # capacity binds every day
    assert per_day == dict.fromkeys(range(4), SETTINGS.review_capacity_per_day)
    # The day's first reviews in event time get the verdicts.
    for day in range(4):
        todays = sorted((f for f in reviews if f.ts_ms // DAY_MS == day), key=lambda f: f.ts_ms)
        first = {f.txn_id for f in todays[: SETTINGS.review_capacity_per_day]}
        assert first == {x.txn_id for x in verdicts if by_txn[x.txn_id].ts_ms // DAY_MS == day}


def test_verdicts_are_quick_and_wrong_at_about_the_error_rate() -> None:
    settings = OutcomesSettings(review_capacity_per_day=10_000, review_error_rate=0.1)
    facts, frauds = decisions(n=20_000)
    by_txn = {f.txn_id: f for f in facts}
    verdicts = [x for x in bank_labels(facts, frauds, settings) if x.source == "investigation"]
    wrong = sum((x.label == "fraud") != (x.txn_id in frauds) for x in verdicts)
    assert 0.07 < wrong / len(verdicts) < 0.13
    delays = [(x.reported_ms - by_txn[x.txn_id].ts_ms) / HOUR_MS for x in verdicts]
    assert settings.review_delay_min_hours <= min(delays)
    assert max(delays) <= settings.review_delay_max_hours


@pytest.mark.parametrize("median, cap", [(20.0, 45.0), (5.0, 10.0)])
def test_chargeback_delays_stay_within_bounds(median: float, cap: float) -> None:
    settings = OutcomesSettings(chargeback_median_days=median, chargeback_max_days=cap)
    days = sorted(chargeback_delay_ms(settings, f"t{i}") / DAY_MS for i in range(5_000))
    assert settings.chargeback_min_days <= days[0] and days[-1] <= cap
    assert 0.9 * median < days[len(days) // 2] < 1.1 * median
    assert days[-1] == cap  # the deadline clips the long tail


def test_the_cli_s_file_path_writes_our_labels_format(tmp_path: Path) -> None:
    facts, frauds = decisions(n=500)
    columns = {name: [getattr(f, name) for f in facts] for name in DecisionFacts._fields}
    pq.write_table(pa.table(columns), tmp_path / "decisions.parquet")
    truth = tmp_path / "truth.labels.jsonl"
    truth.write_text("".join(f'{{"txn_id": "{t}", "label": "fraud"}}\n' for t in sorted(frauds)))
    out = tmp_path / "bank.labels.parquet"
    report = write_bank_labels(tmp_path / "decisions.parquet", truth, out, SETTINGS)
    rows = read_records(out)
    assert [r["txn_id"] for r in rows] == [x.txn_id for x in bank_labels(facts, frauds, SETTINGS)]
    assert {r["source"] for r in rows} == {"chargeback", "investigation"}
    assert {r["scenario"] for r in rows} == {"unknown"}  # the ground truth's scenario stays out
    assert sum(report.labels.values()) == len(rows)
    by_txn = {f.txn_id: f for f in facts}
    for row in rows:  # each label names its payment's entities, from the decision
        fact = by_txn[row["txn_id"]]
        assert (row["card_id"], row["merchant_id"], row["terminal_id"]) == (
            fact.card_id, fact.merchant_id, fact.terminal_id,
        )  # fmt: skip


def test_a_decisions_file_without_the_terminal_gives_labels_naming_it_empty(
    tmp_path: Path,
) -> None:
    facts, frauds = decisions(n=500)
    kept = [name for name in DecisionFacts._fields if name != "terminal_id"]  # as a backtest's
    columns = {name: [getattr(f, name) for f in facts] for name in kept}
    pq.write_table(pa.table(columns), tmp_path / "decisions.parquet")
    truth = tmp_path / "truth.labels.jsonl"
    truth.write_text("".join(f'{{"txn_id": "{t}", "label": "fraud"}}\n' for t in sorted(frauds)))
    out = tmp_path / "bank.labels.jsonl"
    write_bank_labels(tmp_path / "decisions.parquet", truth, out, SETTINGS)
    rows = read_records(out)
    assert rows and {r["terminal_id"] for r in rows} == {""}
    assert all(r["merchant_id"].startswith("m") for r in rows)


def test_a_label_names_the_entities_of_its_decision_record() -> None:
    record = {"txn_id": "t1", "card_id": "c1", "decision": "approve", "amount": 5,
              "event_time": "2026-11-23T10:00:00Z", "merchant_id": "m1", "terminal_id": "m1-t2"}
    label = BankOutcomes(SETTINGS).label_for(DecisionFacts.from_record(record), fraud=True)
    assert label is not None
    doc = label.to_dict()
    assert (doc["card_id"], doc["merchant_id"], doc["terminal_id"]) == ("c1", "m1", "m1-t2")
    older = {k: v for k, v in record.items() if k not in ("merchant_id", "terminal_id")}
    facts = DecisionFacts.from_record(older)
    assert (facts.merchant_id, facts.terminal_id) == ("", "")
