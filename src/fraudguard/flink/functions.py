"""Thin Flink operators around the library: validation with a dead-letter side output, and the
per-card decision step with its keyed state."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction, OutputTag, ProcessFunction, RuntimeContext
from pyflink.datastream.state import ValueStateDescriptor

from fraudguard.decisions import CardDecider
from fraudguard.errors import InvalidTransaction
from fraudguard.schema import Transaction, dead_letter, parse_transaction

BYTES = Types.PRIMITIVE_ARRAY(Types.BYTE())
DEAD_LETTERS = OutputTag("dead-letters", BYTES)


class ValidateTransactions(ProcessFunction):
    """Bytes from Kafka to :class:`Transaction`; anything else goes to ``DEAD_LETTERS``."""

    def __init__(self, max_future_ms: int, max_age_ms: int | None) -> None:
        self.max_future_ms = max_future_ms
        self.max_age_ms = max_age_ms

    def process_element(self, value: bytes, ctx: ProcessFunction.Context) -> Iterator[Any]:
        now_ms = int(time.time() * 1000)
        try:
            yield parse_transaction(value, now_ms, self.max_future_ms, self.max_age_ms)
        except InvalidTransaction as exc:
            yield DEAD_LETTERS, dead_letter(value, exc, now_ms)
        except Exception as exc:  # noqa: BLE001 - hostile input must never crash the job
            error = InvalidTransaction("unparseable", f"{type(exc).__name__}: {exc}")
            yield DEAD_LETTERS, dead_letter(value, error, now_ms)


class DecideCardTransactions(KeyedProcessFunction):
    """Keyed by card: dedupe and decide, with the card's state checkpointed by Flink."""

    def __init__(self, dedupe_ttl_ms: int) -> None:
        self.dedupe_ttl_ms = dedupe_ttl_ms

    def open(self, runtime_context: RuntimeContext) -> None:
        self.decider = CardDecider(self.dedupe_ttl_ms)
        self.card_state = runtime_context.get_state(
            ValueStateDescriptor("card", Types.PICKLED_BYTE_ARRAY())
        )

    def process_element(
        self, txn: Transaction, ctx: KeyedProcessFunction.Context
    ) -> Iterator[bytes]:
        seen = self.card_state.value() or self.decider.new_state()
        record = self.decider.decide(txn, int(time.time() * 1000), seen)
        self.card_state.update(seen)
        if record is not None:
            yield record.to_json()
