"""The FraudGuard scoring job: transactions in, features, one decision per transaction out.

Runs on the local mini-cluster (`fraudguard job run`, or `python jobs/scoring_job.py`) and
submits unchanged to a Flink cluster (`flink run -py jobs/scoring_job.py --settings FILE`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from fraudguard.config import Settings
from fraudguard.flink.connectors import (
    control_source,
    control_watermarks,
    exactly_once_sink,
    labels_source,
    transactions_source,
)
from fraudguard.flink.environment import make_environment
from fraudguard.flink.feature_steps import (
    event_clock,
    feature_steps,
    fraud_labels,
    micro_batches,
    stopped_in_event_time_order,
    transactions_watermarks,
    unbatched,
)
from fraudguard.flink.functions import (
    BYTES,
    CONTROL_STATE,
    DEAD_LETTERS,
    STOPPED,
    DecideBatch,
    ExploreStopped,
    ValidateBatch,
    exposure_key,
)


def build_pipeline(env: Any, settings: Settings) -> None:
    from pyflink.common import WatermarkStrategy
    from pyflink.common.typeinfo import Types

    source = env.from_source(
        transactions_source(settings), transactions_watermarks(settings), "transactions"
    ).uid("transactions-source")
    raw = event_clock(source, settings)
    validation = settings.validation
    valid = (
        micro_batches(raw, settings, "batch-transactions")
        .process(
            ValidateBatch(validation.max_future_ms, validation.max_age_ms, validation.clock),
            BYTES,
        )
        .name("validate")
        .uid("validate")
    )
    labels = env.from_source(
        labels_source(settings), WatermarkStrategy.no_watermarks(), "labels"
    ).uid("labels-source")
    labels = fraud_labels(labels.set_parallelism(1), settings)  # one partition, one reader
    with_features = feature_steps(unbatched(valid, "unbatch-valid"), settings, labels=labels)
    control = (
        env.from_source(control_source(settings), control_watermarks(), "control")
        .uid("control-source")
        .set_parallelism(1)  # one partition: another reader would have no split to report on
        .broadcast(CONTROL_STATE)
    )
    decided = (
        micro_batches(with_features, settings, "batch-features")
        .connect(control)
        .process(DecideBatch.from_settings(settings), BYTES)
        .name("decide")
        .uid("decide")
    )
    decisions = unbatched(decided, "unbatch-decisions")
    if settings.exploration.share > 0:
        stopped = stopped_in_event_time_order(decided.get_side_output(STOPPED), settings)
        released = (
            stopped.key_by(exposure_key, key_type=Types.STRING())
            .process(ExploreStopped.from_settings(settings), BYTES)
            .name("exploration")
            .uid("exploration")
        )
        decisions = decisions.union(released)
    decisions.sink_to(
        exactly_once_sink(
            settings, settings.topics.decisions.name, "decisions", keyed_by_txn_id=True
        )
    ).name("decisions-sink").uid("decisions-sink")
    valid.get_side_output(DEAD_LETTERS).sink_to(
        exactly_once_sink(settings, settings.topics.dlq.name, "dlq")
    ).name("dlq-sink").uid("dlq-sink")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settings", type=Path, help="settings JSON written by `fraudguard job`")
    parser.add_argument("--restore-from", type=Path, help="checkpoint folder (chk-N) to resume")
    args = parser.parse_args(argv)
    if args.settings:
        settings = Settings.model_validate_json(args.settings.read_text())
    else:
        settings = Settings.from_env(os.environ)
    env = make_environment(settings, restore_from=args.restore_from)
    build_pipeline(env, settings)
    env.execute(settings.flink.job_name)


if __name__ == "__main__":
    sys.exit(main())
