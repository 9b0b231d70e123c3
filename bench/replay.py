"""Replay throughput: a generated history from a past year (which the production job's wall
clock would refuse as stale) through a job of its own in a namespace, at max speed, as
``fraudguard replay run`` does, with its report (issue 18: sustain what ``bench/throughput.py``
sustains).

The history is written to a temporary JSONL file first (not timed). ``throughput_tps`` is
transactions over the time from the job running to the last decision read back committed (the
player produces while the job decides, so the job's rate bounds it); ``steady_tps`` is the rate
between the 10% and 90% marks, the window ``bench/throughput.py`` measures. The namespace is
removed at the end; the stack stays up.

Writes bench/results/replay.json.
Usage: python bench/replay.py [--transactions N] [--scoring rules|model]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench_results import log, run_metadata, write_result
from fraudguard.backtest.experiment import run_replay_experiment
from fraudguard.backtest.scenario import Scenario
from fraudguard.config import Settings
from fraudguard.generator import PaymentStream
from fraudguard.generator.sinks import default_labels_path, write_files
from fraudguard.replay.namespace import tear_down
from fraudguard.stack import LocalStack
from throughput import SEED, stream_config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=300_000)
    parser.add_argument("--scoring", choices=("rules", "model"), default="model")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    metadata = run_metadata()
    settings = Settings.from_env(os.environ)
    name = f"bench{uuid.uuid4().hex[:8]}"
    if args.scoring == "rules":
        empty = settings.home / "bench-no-models" / name
        settings = settings.model_copy(update={"models_root": empty})
    else:
        from fraudguard.ops.demo import ensure_bootstrap_model

        ensure_bootstrap_model(settings, log)
    log("starting the local stack if needed")
    LocalStack(settings).up()
    with tempfile.TemporaryDirectory(prefix="fraudguard-bench-replay-") as folder:
        source = Path(folder) / "transactions.jsonl"
        # bench/throughput.py's stream (cards, merchants, days), ended in the past instead
        ended = int(datetime(2025, 6, 1, tzinfo=UTC).timestamp() * 1000)
        config = stream_config(args.transactions, args.seed, "r", ended)
        written = write_files(PaymentStream(config), source, limit=args.transactions)
        log(f"{written.transactions:,} transactions of 2025 to replay in namespace {name} ...")
        try:
            plan = Scenario.model_validate({
                "name": name, "out": Path(folder) / "out",
                "source": {"file": source, "labels": default_labels_path(source)},
            })  # fmt: skip
            result = run_replay_experiment(plan, settings, name, None, echo=log)
            summary = result.summary
            report_files = sorted(p.name for p in result.report["md"].parent.iterdir())
        finally:
            log(f"removing namespace {name}: {tear_down(settings, name).describe()}")
    measured = {
        "transactions": summary["transactions"],
        "decisions": summary["decisions"],
        "duplicates": summary["duplicates"],
        "dead_letters": summary["dead_letters"],
        "throughput_tps": summary["throughput_tps"],
        # between the 10% and 90% marks, as bench/throughput.py measures the job
        "steady_tps": summary["steady_tps"],
        "job_start_s": summary["job_start_s"],
        "play_s": summary["play_s"],
        "elapsed_s": summary["elapsed_s"],
        "scoring": args.scoring,
        "model_versions": summary["model_versions"],
        "load_average_1m": round(os.getloadavg()[0], 2),
        "report_files": report_files,
    }
    write_result("replay", metadata, measured)


if __name__ == "__main__":
    main()
