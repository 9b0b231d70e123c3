"""The governor service's round on a constructed stream of decision and label records: a
better shadow challenger is promoted with its reason, a pair the window has no decision of
holds with the reason, the kill switch stops it; the window forgets what is older than it,
and counts what it cannot read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fraudguard.config import GateSettings
from fraudguard.decision import BUILTIN_TIERS
from fraudguard.governor.round import governor_round
from fraudguard.governor.window import DecisionWindow, LabelBook
from fraudguard.models.registry import TREES_FILE, ModelRegistry

GATES = GateSettings()
NOW = 1_796_450_400_000  # 2026-12-05T06:00:00Z
HOUR = 3_600_000
Stream = Callable[..., tuple[list[bytes], list[bytes]]]


@pytest.fixture
def registry(tmp_path: Path, register_model: Callable[..., None]) -> ModelRegistry:
    reg = ModelRegistry(tmp_path / "models")
    register_model(reg, "champ", 1)
    register_model(reg, "chall", 2)
    reg.promote("champ")
    reg.set_challenger("chall")
    return reg


def read(decisions: list[bytes], labels: list[bytes]) -> tuple[DecisionWindow, LabelBook]:
    window, book = DecisionWindow(24 * HOUR, 100_000), LabelBook()
    for value in decisions:
        assert window.take(value)
    for value in labels:
        assert book.take(value)
    return window, book


def test_a_better_challenger_on_the_stream_is_promoted_with_its_reason(
    registry: ModelRegistry, shadow_stream: Stream
) -> None:
    window, book = read(*shadow_stream(5_000, NOW - HOUR, "champ", "chall"))
    action = governor_round(window, book, registry, BUILTIN_TIERS, GATES, NOW)
    assert (action.action, action.version) == ("promote", "chall"), action.reasons
    assert "AP on the unbiased sample" in action.reasons[0]
    assert registry.pointer().champion == "chall"


def test_a_challenger_no_better_stays_in_the_shadow(
    registry: ModelRegistry, shadow_stream: Stream
) -> None:
    window, book = read(*shadow_stream(5_000, NOW - HOUR, "champ", "chall", challenger_skill=0))
    action = governor_round(window, book, registry, BUILTIN_TIERS, GATES, NOW)
    assert action.action == "none" and "no better on the unbiased sample" in action.reasons[0]
    assert registry.pointer().champion == "champ"


def test_a_window_without_the_pair_s_decisions_holds_with_the_reason(
    registry: ModelRegistry, shadow_stream: Stream
) -> None:
    window, book = read(*shadow_stream(100, NOW - HOUR, "older", "other"))
    action = governor_round(window, book, registry, BUILTIN_TIERS, GATES, NOW)
    assert (action.action, action.version) == ("none", "chall")
    assert action.reasons == ["no decision of champion champ with challenger chall in the log"]
    empty = governor_round(DecisionWindow(HOUR, 1_000), LabelBook(), registry, BUILTIN_TIERS,
                           GATES, NOW)  # fmt: skip
    assert empty.reasons == action.reasons


def test_a_challenger_without_compiled_trees_holds_with_the_reason(
    registry: ModelRegistry, shadow_stream: Stream
) -> None:
    window, book = read(*shadow_stream(5_000, NOW - HOUR, "champ", "chall"))
    (registry.get("chall").path / TREES_FILE).unlink()
    action = governor_round(window, book, registry, BUILTIN_TIERS, GATES, NOW)
    assert action.action == "none" and action.reasons[0].startswith("a model's file is missing")
    assert registry.pointer().champion == "champ"


def test_the_kill_switch_stops_the_round(registry: ModelRegistry, shadow_stream: Stream) -> None:
    window, book = read(*shadow_stream(5_000, NOW - HOUR, "champ", "chall"))
    registry.freeze("incident 42")
    action = governor_round(window, book, registry, BUILTIN_TIERS, GATES, NOW)
    assert (action.action, action.reasons) == ("none", ["frozen: incident 42"])
    assert registry.pointer().champion == "champ"


def test_the_window_forgets_what_is_older_than_it(shadow_stream: Stream) -> None:
    decisions, labels = shadow_stream(1_000, NOW - 2 * HOUR, "champ", "chall")  # 100 s of them
    recent, recent_labels = shadow_stream(500, NOW - HOUR // 2, "champ", "chall", prefix="r")
    window, book = DecisionWindow(HOUR, 10_000), LabelBook()
    for value in decisions + recent:
        window.take(value)
    for value in labels + recent_labels:
        book.take(value)
    window.prune(NOW)
    book.prune(window.txn_ids(), since_ms=NOW - HOUR)
    assert len(window) == 500 and window.txn_ids() == {f"r{i:06d}" for i in range(500)}
    assert set(book.reported) <= window.txn_ids() and book.reported


def test_the_window_keeps_the_newest_up_to_its_bound(shadow_stream: Stream) -> None:
    decisions, _ = shadow_stream(1_500, NOW - HOUR, "champ", "chall")
    window = DecisionWindow(24 * HOUR, 1_000)
    for value in decisions:
        window.take(value)
    assert len(window) == 1_000 and "g000500" in window.txn_ids()
    assert "g000499" not in window.txn_ids()


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"{not json",
        b"[]",
        b'{"txn_id": "t1"}',
        b'{"txn_id": 5, "score": 0.1, "event_time": "2026-12-05T06:00:00Z"}',
        b'{"txn_id": "t", "score": 0.1, "event_time": "yesterday"}',
    ],  # fmt: skip
)
def test_what_is_not_a_decision_is_counted_and_left_out(value: bytes) -> None:
    window = DecisionWindow(HOUR, 1_000)
    assert not window.take(value)
    assert (len(window), window.refused) == (0, 1)
