"""The validation step counts what it refuses, by reason, as it sends it to the DLQ."""

from __future__ import annotations

from fraudguard.flink.batches import pack_batch
from fraudguard.flink.functions import DEAD_LETTERS, ValidateBatch
from fraudguard.metrics.counters import InMemoryGroup
from fraudguard.metrics.names import DEAD_LETTERS as DEAD_LETTER_COUNT


def test_dead_letters_are_counted_by_reason() -> None:
    step = ValidateBatch(5 * 60_000, None)
    batch = [b"\x01{oops", b"\x00", b"\x01[]", b"\x01{also bad"]
    out = list(step.process_element(pack_batch(batch), None))
    assert [tag for tag, _ in out] == [DEAD_LETTERS] * 4
    group = step.metrics.group
    assert isinstance(group, InMemoryGroup)
    counts = {r: group.value(DEAD_LETTER_COUNT, r) for r in ("bad_json", "empty", "not_an_object")}
    assert counts == {"bad_json": 2, "empty": 1, "not_an_object": 1}
