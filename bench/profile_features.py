"""Where a transaction's Python time goes in the job: each Python step of its per-record path,
run outside Flink on generated traffic, in microseconds per transaction. The features (and the
online store's writes) are the JVM's (``bench/feature_kernel.py`` times the kernel); here the
features are stand-in values.

Compare the total with 1e6 / throughput_tps from bench/throughput.py: the rest is the JVM side
(Kafka, the feature steps, the shuffles, the online store, checkpoints), Redis, and PyFlink's
bridge (paid once per batch of ``flink.batch_size`` records).

Writes bench/results/profile_features.json.
"""

from __future__ import annotations

import argparse
import struct
import time

import orjson

from bench_results import run_metadata, write_result
from fraudguard.config import FlinkSettings
from fraudguard.decision.decider import Decider
from fraudguard.features import FEATURE_NAMES
from fraudguard.flink.batches import pack_batch, unpack_batch, unpack_features
from fraudguard.flink.functions import FEATURE_INDEX
from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.wire.transactions import Transaction, parse_transaction


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=50_000)
    count = parser.parse_args(argv).transactions
    metadata = run_metadata()
    now_ms = int(time.time() * 1000)
    config = GeneratorConfig(seed=3, cards=4000, merchants=300, days=7).ending_at(now_ms)
    raw: list[bytes] = []
    for batch in PaymentStream(config).batches():
        raw.extend(batch.encoded())
        if len(raw) >= count:
            break
    raw = raw[:count]
    clock = time.perf_counter
    spent: dict[str, float] = {}

    started = clock()
    validated = [orjson.dumps(parse_transaction(value, now_ms)) for value in raw]
    spent["validate"] = clock() - started

    n, batch_size = len(FEATURE_NAMES), FlinkSettings().batch_size  # the job's batches
    stand_in = [float(i) for i in range(n)]
    written = orjson.dumps(dict(zip(FEATURE_NAMES, stand_in, strict=True)))  # as the JVM writes
    values = (
        struct.pack(f"<i{n}d?dB", n, *stand_in, False, float("nan"), 0)  # no model score
        + struct.pack("<i", len(written))
        + written
    )
    batches = [
        pack_batch([values + v for v in validated[i : i + batch_size]])
        for i in range(0, len(validated), batch_size)
    ]
    decider = Decider()
    decided, unpacked = 0.0, 0.0
    for batch in batches:
        t0 = clock()
        items = []
        for packed in unpack_batch(batch):
            features, late, _scored, _shadow, txn_json = unpack_features(packed, FEATURE_INDEX)
            items.append((Transaction.from_validated(txn_json), features, late))
        t1 = clock()
        out = []
        for txn, features, late in items:
            out.append(decider.decide(txn, features, now_ms, late).to_json())
        pack_batch(out)
        t2 = clock()
        unpacked, decided = unpacked + t1 - t0, decided + t2 - t1
    spent.update(unpack=unpacked, decide_to_json=decided)
    per_txn = {k: round(v / count * 1e6, 2) for k, v in spent.items()}
    result = {
        "transactions": count,
        "features": len(FEATURE_NAMES),
        "us_per_txn": per_txn,
        "python_total_us": round(sum(per_txn.values()), 1),
        "python_ceiling_tps": round(1e6 / sum(per_txn.values())),
    }
    write_result("profile_features", metadata, result)


if __name__ == "__main__":
    main()
