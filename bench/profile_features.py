"""Where a transaction's time goes in Python: each step of the job's per-record path, run
outside Flink on generated traffic, in microseconds per transaction. Compare the total with
1e6 / throughput_tps from bench/throughput.py: the rest is PyFlink's own cost (serialising
between operators, the Java/Python bridge, checkpoints, Kafka).

Prints one JSON line and writes bench/results/profile_features.json.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from fraudguard.decisions import Decider
from fraudguard.features import FEATURE_NAMES, CardStep, DeviceStep, FeatureEngine, MerchantStep
from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.schema import parse_transaction


def main(count: int = 50_000) -> None:
    stream = PaymentStream(GeneratorConfig(seed=3, cards=4000, merchants=300, days=7))
    raw: list[bytes] = []
    for batch in stream.batches():
        raw.extend(batch.encoded())
        if len(raw) >= count:
            break
    raw = raw[:count]
    engine = FeatureEngine()
    card_step = CardStep(engine, 86_400_000)
    merchant_step, device_step = MerchantStep(engine), DeviceStep(engine)
    decider = Decider()
    cards: dict = {}
    merchants: dict = {}
    terminals: dict = {}
    devices: dict = {}
    steps = ["parse", "card_step", "merchant_step", "device_step", "decide_to_json"]
    steps += ["pickle_between_steps", "state_pickle"]
    spent = dict.fromkeys(steps, 0.0)
    clock = time.perf_counter
    for value in raw:
        t0 = clock()
        txn = parse_transaction(value, now_ms=None)
        held = cards.get(txn.card_id)
        card = pickle.loads(held) if held is not None else card_step.new_state()
        t1 = clock()
        features = card_step(card, txn)
        t2 = clock()
        cards[txn.card_id] = pickle.dumps(card)  # Flink's ValueState pickles on update
        merchant = merchants.get(txn.merchant_id) or merchant_step.new_merchant_state()
        terminal = terminals.get(txn.terminal_id) or merchant_step.new_terminal_state()
        t3 = clock()
        assert features is not None
        features.update(merchant_step(merchant, terminal, txn))
        t4 = clock()
        merchants[txn.merchant_id], terminals[txn.terminal_id] = merchant, terminal
        blob = pickle.dumps((txn, features, False))  # three keyed shuffles pickle the element
        txn, features, _ = pickle.loads(blob)
        pickle.loads(pickle.dumps((txn, features, False)))
        pickle.loads(pickle.dumps((txn, features, False)))
        t5 = clock()
        device = None
        if txn.device_id is not None:
            device = devices.get(txn.device_id) or device_step.new_state()
            devices[txn.device_id] = device
        features.update(device_step(device, txn))
        t6 = clock()
        ordered = {name: features[name] for name in FEATURE_NAMES}
        decider.decide(txn, ordered, 0).to_json()
        t7 = clock()
        pickle.dumps(merchant)
        pickle.dumps(terminal)
        if device is not None:
            pickle.dumps(device)
        t8 = clock()
        spent["parse"] += t1 - t0  # includes reading the card's state back
        spent["card_step"] += t2 - t1
        spent["merchant_step"] += t4 - t3
        spent["pickle_between_steps"] += t5 - t4
        spent["device_step"] += t6 - t5
        spent["decide_to_json"] += t7 - t6
        spent["state_pickle"] += (t8 - t7) + (t3 - t2)
    per_txn = {k: round(v / count * 1e6, 2) for k, v in spent.items()}
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "transactions": count,
        "features": len(FEATURE_NAMES),
        "us_per_txn": per_txn,
        "python_total_us": round(sum(per_txn.values()), 1),
        "python_ceiling_tps": round(1e6 / sum(per_txn.values())),
    }
    out = Path(__file__).parent / "results" / "profile_features.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
