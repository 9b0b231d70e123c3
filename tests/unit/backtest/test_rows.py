"""The JVM half reads event times as the job's validation does, in every ISO-8601 form the
wire allows, and a reader that stops early leaves no JVM behind."""

from __future__ import annotations

from pathlib import Path

import orjson

from fraudguard.backtest.rows import scored_rows
from fraudguard.config import Settings
from fraudguard.wire.transactions import parse_event_time

EVENT_TIMES = [
    "2026-01-05T00:07:12.767Z", "2026-01-05T00:07:12Z", "2026-01-05T02:07:12.767+02:00",
    "2026-01-05T00:07:12.123456Z", "2026-01-04T23:59:59.999-05:30", "2026-01-05T00:07:12.001Z",
    "1999-12-31T23:59:59.999Z", "2026-01-05T00:07:12.5+00:00",
]  # fmt: skip


def write(path: Path, event_times: list[str]) -> Path:
    with path.open("wb") as out:
        for i, event_time in enumerate(event_times):
            txn = {
                "txn_id": f"t{i}", "event_time": event_time, "card_id": f"c{i % 3}",
                "customer_id": "u", "merchant_id": "m1", "terminal_id": "m1-t", "amount": 10.5,
                "currency": "EUR", "mcc": "5411", "country": "FR", "channel": "online",
                "device_id": None,
            }  # fmt: skip
            out.write(orjson.dumps(txn) + b"\n")
    return path


def test_event_times_in_every_form_give_the_milliseconds_of_the_job(tmp_path: Path) -> None:
    source = write(tmp_path / "t.jsonl", EVENT_TIMES)
    settings = Settings(models_root=tmp_path / "models")
    batches = list(scored_rows(source, settings, ["rules"], batch_rows=3))
    assert [len(b) for b in batches] == [3, 3, 2]
    got = [t for b in batches for t in b.ts_ms.tolist()]
    assert got == [parse_event_time(e) for e in EVENT_TIMES]
    late = [x for b in batches for x in b.late.tolist()]
    assert late == [parse_event_time(e) < max(map(parse_event_time, EVENT_TIMES[:i]), default=0)
                    for i, e in enumerate(EVENT_TIMES)]  # fmt: skip


def test_a_reader_that_stops_early_ends_the_jvm(tmp_path: Path) -> None:
    source = write(tmp_path / "t.jsonl", EVENT_TIMES[:1] * 5000)
    rows = scored_rows(source, Settings(models_root=tmp_path / "models"), ["rules"], batch_rows=10)
    assert len(next(rows)) == 10
    rows.close()  # the generator's finally kills the JVM it started
