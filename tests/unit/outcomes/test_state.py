"""The outcomes service's state without Kafka: the same labels as the file path whatever the
partitioning, interleaving and crashes; labels held until the stream's clock reaches them;
nothing taken in twice or lost across a restart from the changelog; every unusable record
counted."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

import orjson
import pytest

from fraudguard.config import OutcomesServiceSettings, OutcomesSettings
from fraudguard.outcomes import BankLabel, DecisionFacts, bank_labels
from fraudguard.outcomes.bank import DAY_MS, HOUR_MS
from fraudguard.outcomes.state import OutcomesState
from fraudguard.wire.ground_truth import Truth, TruthMark

PARTITIONS = (0, 1, 2, 3)


def settings(window_s: float = 0.0, wait_s: float = 60.0, ttl_hours: float = 24.0):
    service = OutcomesServiceSettings(
        review_order_window_s=window_s, truth_wait_s=wait_s, truth_ttl_hours=ttl_hours
    )
    return OutcomesSettings(
        review_capacity_per_day=8, chargeback_median_days=2.0, chargeback_min_days=0.5,
        chargeback_max_days=6.0, service=service,
    )  # fmt: skip


def stream(n: int = 2_000, days: int = 6, seed: int = 3):
    """Decisions in event-time order (a third fraud, every decision, explored releases) and
    the ground truth a generator sends: each fraud's truth, then a mark, now and then."""
    rng = random.Random(seed)
    times = sorted(rng.randrange(days * DAY_MS) for _ in range(n))
    facts, frauds, truth = [], set(), []
    for i, ts in enumerate(times):
        txn = f"t{i:05d}"
        decision = rng.choices(["approve", "review", "block"], weights=[6, 3, 1])[0]
        explored = decision == "approve" and rng.random() < 0.1
        facts.append(DecisionFacts(txn, f"c{i % 37}", decision, explored,
                                   0.05 if explored else 1.0, ts, 10.0, f"m{i % 11}",
                                   f"m{i % 11}-t1"))  # fmt: skip
        if rng.random() < 1 / 3:
            frauds.add(txn)
            truth.append(Truth(txn, True, ts))
        elif rng.random() < 0.01:
            truth.append(Truth(txn, False, ts))
        if rng.random() < 0.05:
            truth.append(TruthMark(ts))
    end = times[-1] + HOUR_MS
    truth.append(TruthMark(end))
    # Blocks after everything, one per partition, so the clock passes the last review.
    facts += [DecisionFacts(f"z{p}", "c0", "block", False, 1.0, end, 1.0) for p in PARTITIONS]
    return facts, frauds, truth


def partitioned(facts):
    parts = defaultdict(list)
    for i, f in enumerate(facts):
        parts[PARTITIONS[i % len(PARTITIONS)] if f.txn_id[0] != "z" else int(f.txn_id[1])].append(f)
    return parts


@dataclass
class Log:
    """What Kafka would hold: committed labels, the changelog and the group's positions."""

    labels: list[BankLabel] = field(default_factory=list)
    changelog: list[tuple[str, bytes | None]] = field(default_factory=list)
    decision_offsets: dict[int, int] = field(default_factory=dict)
    truth_offset: int = 0
    rounds: int = 0


def run(
    facts, truth, config, seed: int = 0, crash_every: int = 0, late_truth: bool = False,
    now_s: float = 0.0, round_size: int = 60,
):  # fmt: skip
    """Rounds of a service on partitioned decisions and the truth, crashing (losing its
    memory and the round in flight) every ``crash_every`` rounds, restarting from the log."""
    rng = random.Random(seed)
    parts = partitioned(facts)
    log = Log()
    state = OutcomesState(config, PARTITIONS)
    read = {p: 0 for p in PARTITIONS}
    truth_read = 0
    while True:
        log.rounds += 1
        # Truth first, as the service reads it (or late, after the decisions, when asked).
        truth_step = rng.randrange(1, 40) if late_truth else len(truth)
        for record in truth[truth_read : truth_read + truth_step]:
            state.take_truth(record)
        truth_read = min(len(truth), truth_read + truth_step)
        for _ in range(round_size):
            p = rng.choice(PARTITIONS)
            if read[p] < len(parts[p]):
                state.take_decision(p, read[p], parts[p][read[p]], now_s)
                read[p] += 1
        for p in PARTITIONS:
            state.set_end(p, read[p] == len(parts[p]))
        state.step(now_s)
        released = state.release()
        changes = state.changes()
        if crash_every and log.rounds % crash_every == 0:
            state = OutcomesState.restore(config, PARTITIONS, log.changelog)
            read = {p: log.decision_offsets.get(p, 0) for p in PARTITIONS}
            truth_read = log.truth_offset
            continue
        log.labels += released
        log.changelog += changes
        log.decision_offsets.update(state.decision_offsets)
        log.truth_offset = truth_read
        done = all(log.decision_offsets.get(p, 0) == len(parts[p]) for p in PARTITIONS)
        if done and truth_read == len(truth):
            return log, state


def test_the_service_gives_the_file_path_s_labels_at_their_report_time():
    facts, frauds, truth = stream()
    config = settings()
    log, state = run(facts, truth, config)
    expected = bank_labels(facts, frauds, config)
    clock = state.clock.now
    assert clock == max(f.ts_ms for f in facts)
    assert log.labels == [x for x in expected if x.reported_ms <= clock]
    assert state.pending_labels() == [x for x in expected if x.reported_ms > clock]
    assert {x.source for x in log.labels} == {"chargeback", "investigation"}
    assert state.counts["reviews_over_capacity"] > 0  # the capacity was binding
    assert state.reviews_held == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_crashes_and_restarts_from_the_changelog_lose_and_repeat_nothing(seed):
    facts, frauds, truth = stream(seed=seed)
    config = settings()
    log, state = run(facts, truth, config, seed=seed, crash_every=3, late_truth=True)
    expected = bank_labels(facts, frauds, config)
    given = log.labels + state.pending_labels()
    assert len({x.txn_id for x in log.labels}) == len(log.labels)  # no label twice
    assert given == sorted(expected, key=lambda x: (x.reported_ms, x.txn_id))
    restored = OutcomesState.restore(config, PARTITIONS, log.changelog)
    assert restored.pending_labels() == state.pending_labels()
    assert restored.counts["decisions_approve"] == sum(f.decision == "approve" for f in facts)
    assert restored.counts["truth_matched"] == len(frauds)


def test_a_changelog_written_before_labels_named_their_entities_still_restores():
    pending = {"txn_id": "t1", "card_id": "c1", "label": "fraud", "reported_ms": 9_000,
               "event_time": "1970-01-01T00:00:01.000Z", "source": "chargeback"}
    review = {"facts": ["t2", "c2", "review", False, 1.0, 2_000, 5.0], "fraud": True}
    entries = [("p/t1", orjson.dumps(pending)), ("r/t2", orjson.dumps(review))]
    restored = OutcomesState.restore(settings(), PARTITIONS, entries)
    [label] = restored.pending_labels()
    assert (label.txn_id, label.merchant_id, label.terminal_id) == ("t1", "", "")
    assert label.to_dict()["terminal_id"] == "" and restored.reviews_held == 1


def test_reviews_out_of_order_within_the_window_take_the_capacity_in_event_time_order():
    facts, frauds, truth = stream()
    reviews = [i for i, f in enumerate(facts) if f.decision == "review"]
    shuffled = list(facts)
    rng = random.Random(9)
    for a, b in zip(reviews[::2], reviews[1::2], strict=False):  # swap neighbouring reviews
        if abs(facts[a].ts_ms - facts[b].ts_ms) < 5 * 60_000:
            shuffled[a], shuffled[b] = shuffled[b], shuffled[a]
    rng.shuffle(shuffled[-len(PARTITIONS) :])
    config = settings(window_s=600)
    log, state = run(shuffled, truth, config)
    expected = bank_labels(facts, frauds, config)
    assert log.labels + state.pending_labels() == sorted(
        expected, key=lambda x: (x.reported_ms, x.txn_id)
    )


def test_a_blocked_payment_never_yields_a_label_and_an_explored_one_does():
    facts, frauds, truth = stream()
    log, state = run(facts, truth, settings())
    labelled = {x.txn_id for x in log.labels + state.pending_labels()}
    blocked = {f.txn_id for f in facts if f.decision == "block"}
    explored_frauds = {f.txn_id for f in facts if f.explored and f.txn_id in frauds}
    assert blocked and not blocked & labelled
    assert explored_frauds and explored_frauds <= labelled


def test_a_label_waits_for_the_stream_s_clock():
    config = settings()
    state = OutcomesState(config, [0])
    review = DecisionFacts("t1", "c1", "review", False, 1.0, 0, 1.0)
    state.take_truth(TruthMark(10 * DAY_MS))
    state.take_decision(0, 0, review, 0.0)
    state.step(0.0)
    assert state.release() == [] and state.reviews_held == 1  # the clock is not past it yet
    for offset, hours in enumerate((0.5, 100.0), start=1):
        later = DecisionFacts(f"b{hours}", "c2", "block", False, 1.0, round(hours * HOUR_MS), 1)
        state.take_decision(0, offset, later, 0.0)
        state.step(0.0)
        due = state.release()
        if hours < 1:  # the verdict comes 1 to 48 h after the payment
            assert due == [] and len(state.pending_labels()) == 1
    assert [x.txn_id for x in due] == ["t1"] and due[0].source == "investigation"
    assert state.pending_labels() == []


def test_a_decision_waits_for_its_truth_then_is_counted_without_a_label():
    state = OutcomesState(settings(wait_s=30), [0])
    fraud = DecisionFacts("t1", "c1", "approve", False, 1.0, 5_000, 1.0)
    state.take_truth(TruthMark(4_999))  # the generator has not got to t1 yet
    state.take_decision(0, 7, fraud, now_s=100.0)
    state.take_decision(0, 8, fraud._replace(txn_id="t2", ts_ms=1_000), now_s=100.0)
    state.step(now_s=110.0)
    assert state.waiting == 2 and state.decision_offsets == {}  # t2 waits behind t1
    state.step(now_s=131.0)
    assert state.waiting == 0 and state.decision_offsets == {0: 9}
    assert state.counts["no_truth"] == 1 and state.counts["decisions_approve"] == 1


def test_unreadable_and_unmatched_records_are_counted():
    state = OutcomesState(settings(ttl_hours=1), [0])
    state.take_truth(None)
    state.take_truth(Truth("gone", True, 0))  # its payment never decided
    state.take_truth(TruthMark(3 * HOUR_MS))
    state.take_decision(0, 0, None, 0.0)
    state.take_decision(0, 1, DecisionFacts("t1", "c", "block", False, 1.0, 2 * HOUR_MS, 1), 0)
    state.step(0.0)
    assert (state.counts["bad_truth"], state.counts["bad_decisions"]) == (1, 1)
    assert state.counts["truth_unmatched"] == 1
    assert state.decision_offsets == {0: 2}
    keys = [key for key, _ in state.changes()]
    assert "t/gone" not in keys  # held and forgotten within the round: no entry at all


def test_the_changelog_keeps_only_what_is_live():
    facts, _, truth = stream(n=300)
    log, state = run(facts, truth, settings())
    newest: dict[str, bytes | None] = {}
    for key, value in log.changelog:
        newest[key] = value
    live = {key for key, value in newest.items() if value is not None}
    assert {k for k in live if k.startswith("p/")} == {
        f"p/{x.txn_id}" for x in state.pending_labels()
    }
    assert not {k for k in live if k[:2] in ("r/", "t/")}


def test_a_new_run_s_first_mark_moves_the_truth_s_mark_back():
    """An earlier run's mark stood at 10 days; the new run starts at day 2 with a mark before
    its first payment: its fraud decided before its truth is read waits, it is not taken for
    legitimate."""
    state = OutcomesState(settings(), [0])
    state.take_truth(TruthMark(10 * DAY_MS))
    state.take_truth(TruthMark(2 * DAY_MS - 1))
    fraud = DecisionFacts("t1", "c1", "approve", False, 1.0, 2 * DAY_MS, 1.0)
    state.take_decision(0, 0, fraud, 0.0)
    state.step(0.0)
    assert state.waiting == 1
    state.take_truth(Truth("t1", True, 2 * DAY_MS))
    state.take_truth(TruthMark(2 * DAY_MS))
    state.step(0.0)
    assert state.waiting == 0 and [x.source for x in state.pending_labels()] == ["chargeback"]


def test_a_new_run_going_back_in_time_starts_the_clock_again():
    """The demo generates the days before now at each start: the second run's fraud truth
    must not be forgotten as older than the first run's clock, nor its reviews counted late."""
    state = OutcomesState(settings(), [0])
    state.take_truth(TruthMark(10 * DAY_MS))
    old = DecisionFacts("old", "c", "approve", False, 1.0, 10 * DAY_MS, 1.0)
    state.take_decision(0, 0, old, 0.0)
    state.step(0.0)
    assert state.clock.now == 10 * DAY_MS
    state.take_truth(TruthMark(2 * DAY_MS - 1))  # the second run starts 8 days earlier
    state.take_truth(Truth("t1", True, 2 * DAY_MS))
    state.take_truth(TruthMark(3 * DAY_MS))
    for offset, (txn, kind) in enumerate((("t1", "approve"), ("t2", "review")), start=1):
        facts = DecisionFacts(txn, "c", kind, False, 1.0, 2 * DAY_MS + offset, 1.0)
        state.take_decision(0, offset, facts, 0.0)
    state.step(0.0)
    assert state.counts["truth_runs"] == 1 and state.clock.now == 2 * DAY_MS + 2
    assert state.counts["truth_unmatched"] == 0 and state.counts["late_reviews"] == 0
    assert {x.txn_id for x in state.pending_labels()} == {"t1"} and state.reviews_held == 1
