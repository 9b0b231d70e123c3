"""Spike, not the job: with every window in the JVM, how fast can the decision stay in Python?

`bench/spike_jvm_windows.py` showed that windows must leave Python for 10,000 tx/s. This spike
asks the next question: if each entity's windows run in one Java keyed operator, what does the
Python part of the decision cost, in the DataStream API (one record per call) and in the Table
API (a pandas UDF, Arrow batches)? The Java operators (`bench/spike_hybrid/*.java`, compiled
here with `javac` into a temporary jar) are stand-ins of the right shape: card, merchant and
device keyed in turn, each keeping its key's events over the longest horizon with an exact
count and sum per horizon, and appending as many values as the entity has features (52 in
all). They do not compute distinct counts, maxima or buckets, so a real kernel costs more.

Variants, each on the same backlog, Kafka in and out with the exactly-once sink, checkpoints
every 2 s, parallelism 1, in the local mini-cluster:

- ``python_ops``: Python validation (``parse_transaction``) → Java windows → Python decision
  (``Decider`` with the rule score, the decision record's JSON): the job's shape with its
  windows moved to the JVM.
- ``one_python_op``: Java parsing → Java windows → one Python operator that parses the
  transaction and decides.
- ``jvm_only``: Java parsing → Java windows → the packed row written as is: no Python.
- ``arrow_batched``: as ``one_python_op``, but the decision is a pandas UDF in the Table API,
  the same Python code called row by row over each Arrow batch.
- ``real_kernels``: as ``one_python_op``, but with the job's own feature steps
  (``fraudguard.flink.feature_steps``: the feature kernel, all 58 features) instead of the
  stand-ins, fed raw records by ``bench/spike_hybrid/KernelParse.java``; no online store.
- ``real_jvm_only``: the real kernels and no Python, as ``jvm_only``.
- ``real_batched``: as ``real_kernels``, but a Java operator packs up to 200 rows (or 20 ms,
  and always before a checkpoint barrier) into one record, the Python operator decides the
  whole batch in one call and returns the decisions packed, and a Java flat map unpacks them:
  PyFlink's per-record bridge cost is paid once per batch.
- ``real_validate_batched``: as ``real_batched``, with the job's batched validation too
  (``ValidateBatch``): the job's shape, but for the decision (rules, no control topic) and
  without online store or exploration.

Prints one line per variant and, last, a JSON object also written to
bench/results/spike_hybrid.json.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spike_jvm_windows import spike_checkpoints, sustained_tps  # same folder: bench/

from fraudguard.config import Settings
from fraudguard.features.jvm import kernel_classpath
from fraudguard.features.registry import FEATURES
from fraudguard.features.spec import feature_spec
from fraudguard.flink.batches import pack_batch, unpack_batch, unpack_features
from fraudguard.flink.connectors import exactly_once_sink, transactions_source, unframe
from fraudguard.flink.environment import flink_configuration
from fraudguard.flink.feature_steps import feature_steps, micro_batches, unbatched
from fraudguard.flink.functions import ValidateBatch
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.kafka_io import read_topic
from fraudguard.stack import LocalStack, create_topics, delete_topics

RESULTS = Path(__file__).resolve().parent / "results"
JAVA_SOURCES = Path(__file__).resolve().parent / "spike_hybrid"
VARIANTS = (
    "python_ops", "one_python_op", "jvm_only", "arrow_batched", "real_kernels", "real_jvm_only",
    "real_batched", "real_validate_batched",
)  # fmt: skip
MINUTE_MS = 60_000
# (key field, horizons, values appended beyond count and sum per horizon) per entity, so each
# operator appends as many values as the entity has windowed features.
ENTITIES = {
    "card": (1, [10 * MINUTE_MS, 60 * MINUTE_MS, 1440 * MINUTE_MS, 7 * 1440 * MINUTE_MS,
                 30 * 1440 * MINUTE_MS]),
    "merchant": (2, [60 * MINUTE_MS, 1440 * MINUTE_MS, 7 * 1440 * MINUTE_MS]),
    "device": (3, [7 * 1440 * MINUTE_MS]),
}  # fmt: skip
WIDTHS = {"card": ("card",), "merchant": ("merchant", "terminal"), "device": ("device",)}
ROW_FIELDS = ["txn_id", "card_id", "merchant_id", "device_id", "ts_ms", "amount", "f", "txn"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_jar(workdir: Path, settings: Settings) -> Path:
    """Compiles the stand-in operators against PyFlink's own jars."""
    import pyflink

    lib = Path(pyflink.__file__).resolve().parent / "lib"
    kernel = kernel_classpath(settings).split(":")[0]  # the project's jar: the real kernel
    classes = workdir / "classes"
    classes.mkdir()
    sources = [str(p) for p in sorted(JAVA_SOURCES.glob("*.java"))]
    subprocess.run(["javac", "--release", "17", "-cp", f"{lib}/*:{kernel}", "-d", str(classes),
                    *sources], check=True)  # fmt: skip
    jar = workdir / "spike-hybrid.jar"
    subprocess.run(["jar", "cf", str(jar), "-C", str(classes), "."], check=True)
    return jar


def windowed_widths() -> dict[str, int]:
    return {
        entity: sum(1 for f in FEATURES if f.entity in kinds) for entity, kinds in WIDTHS.items()
    }


def run_variant(settings: Settings, variant: str, n: int, jar: Path) -> dict[str, Any]:
    from pyflink.common import Configuration, Row, WatermarkStrategy
    from pyflink.common.typeinfo import Types
    from pyflink.datastream import DataStream, ProcessFunction, StreamExecutionEnvironment
    from pyflink.java_gateway import get_gateway

    conf = flink_configuration(settings)
    conf["pipeline.jars"] += ";" + jar.resolve().as_uri()
    conf["execution.checkpointing.interval"] = "2 s"
    conf["execution.checkpointing.dir"] = spike_checkpoints(settings).resolve().as_uri()
    conf["pipeline.name"] = f"spike-hybrid-{variant}"
    config = Configuration()
    for key, value in conf.items():
        config.set_string(key, value)
    env = StreamExecutionEnvironment.get_execution_environment(config)
    jvm = get_gateway().jvm
    raw_bytes = Types.PRIMITIVE_ARRAY(Types.BYTE())
    row_type = Types.ROW_NAMED(ROW_FIELDS, [
        Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING(), Types.LONG(),
        Types.DOUBLE(), Types.PRIMITIVE_ARRAY(Types.DOUBLE()), raw_bytes,
    ])  # fmt: skip
    j_row_type = row_type.get_java_type_info()
    out_topic = f"{settings.topics.decisions.name}-{variant}"
    out_settings = settings.model_copy(update={"topics": settings.topics.model_copy(
        update={"decisions": settings.topics.decisions.model_copy(update={"name": out_topic})}
    )})  # fmt: skip
    create_topics(out_settings)
    source = env.from_source(
        transactions_source(settings), WatermarkStrategy.no_watermarks(), "transactions"
    )

    class Validate(ProcessFunction):
        def process_element(self, framed: bytes, ctx: Any) -> Any:
            from fraudguard.schema import parse_transaction

            txn = parse_transaction(unframe(framed), int(time.time() * 1000))
            yield Row(txn.txn_id, txn.card_id, txn.merchant_id, txn.device_id or "", txn.ts_ms,
                      txn.amount, None, pickle.dumps(txn, protocol=5))  # fmt: skip

    class Decide(ProcessFunction):
        """Row in: the pickled transaction travelled with the windows."""

        def open(self, runtime_context: Any) -> None:
            self.decide_one = decision_maker()

        def process_element(self, row: Any, ctx: Any) -> Any:
            yield self.decide_one(pickle.loads(row[7]), list(row[6]))

    class DecidePacked(Decide):
        """Packed bytes in (see PackRow.java): this operator parses the transaction."""

        def process_element(self, packed: bytes, ctx: Any) -> Any:
            yield decide_packed(self.decide_one, packed)

    class DecideFeatures(Decide):
        """The job's packed features in (``PackForDecision``), one record per call;
        ``validated``: the JSON behind them is the validated transaction, not the raw one."""

        def __init__(self, validated: bool = False) -> None:
            self.validated = validated

        def process_element(self, packed: bytes, ctx: Any) -> Any:
            yield decide_features(self.decide_one, packed, self.validated)

    class DecideFeaturesBatch(DecideFeatures):
        """As DecideFeatures, a batch per call (``MicroBatch``), the decisions packed."""

        def process_element(self, batch: bytes, ctx: Any) -> Any:
            yield pack_batch([
                decide_features(self.decide_one, packed, self.validated)
                for packed in unpack_batch(batch)
            ])  # fmt: skip

    widths = windowed_widths()
    if variant == "python_ops":
        stream = source.process(Validate(), output_type=row_type)._j_data_stream
    elif variant.startswith("real_"):
        # The job's own operators: batches, validation, the feature steps, the packing for the
        # decision. No online store, as in the stand-in variants.
        redis = settings.redis.model_copy(update={"online_store": False})
        kernel_settings = settings.model_copy(update={"redis": redis})
        if variant == "real_validate_batched":
            valid = micro_batches(source, kernel_settings, "batch-transactions").process(
                ValidateBatch(settings.validation.max_future_ms, settings.validation.max_age_ms),
                output_type=raw_bytes,
            )
            features = feature_steps(unbatched(valid, "unbatch-valid"), kernel_settings)
        else:  # Java parsing of the raw records
            parse = jvm.spike.KernelParse(json.dumps(feature_spec()))
            features = feature_steps(source, kernel_settings, parse=parse)
        stream = features._j_data_stream
    else:
        stream = source._j_data_stream.map(jvm.spike.ParseTxn(), j_row_type)
    for entity, (field, horizons) in ENTITIES.items() if not variant.startswith("real_") else ():
        extra = widths[entity] - 2 * len(horizons)
        kernel = jvm.spike.SlidingSums(to_java_longs(jvm, horizons), max(extra, 0))
        stream = stream.keyBy(jvm.spike.FieldKey(field)).process(kernel, j_row_type)
    if variant == "python_ops":
        out = DataStream(stream).process(Decide(), output_type=raw_bytes)
    elif not variant.startswith("real_"):
        stream = stream.map(jvm.spike.PackRow(), raw_bytes.get_java_type_info())
    if variant == "one_python_op":
        out = DataStream(stream).process(DecidePacked(), output_type=raw_bytes)
    elif variant == "real_kernels":
        out = DataStream(stream).process(DecideFeatures(), output_type=raw_bytes)
    elif variant in ("real_batched", "real_validate_batched"):
        decider = DecideFeaturesBatch(validated=variant == "real_validate_batched")
        batches = micro_batches(DataStream(stream), settings, "batch-features")
        out = unbatched(batches.process(decider, output_type=raw_bytes), "unbatch-decisions")
    elif variant in ("jvm_only", "real_jvm_only"):
        out = DataStream(stream)
    if variant == "arrow_batched":
        run = arrow_batched_job(env, settings, DataStream(stream), out_topic)
    else:
        out.sink_to(exactly_once_sink(settings, out_topic, f"spike-{variant}"))

        def run() -> None:
            env.execute(f"spike-hybrid-{variant}")

    return measure(run, out_settings, out_topic, n, variant)


def decision_maker() -> Any:
    from fraudguard.decisions import Decider
    from fraudguard.features import FEATURE_NAMES

    decider = Decider()

    def decide_one(txn: Any, values: list[float]) -> bytes:
        # The stand-ins leave the transaction-level features out: they are zero here.
        features = dict.fromkeys(FEATURE_NAMES, 0.0)
        features.update(zip(FEATURE_NAMES, values, strict=False))
        return decider.decide(txn, features, int(time.time() * 1000)).to_json()

    return decide_one


def decide_packed(decide_one: Any, packed: bytes) -> bytes:
    import numpy as np

    from fraudguard.schema import parse_transaction

    count = int.from_bytes(packed[:4], "little")
    values = np.frombuffer(packed, dtype="<f8", count=count, offset=4).tolist()
    txn = parse_transaction(packed[4 + 8 * count :], int(time.time() * 1000))
    return decide_one(txn, values)


def decide_features(decide_one: Any, packed: bytes, validated: bool) -> bytes:
    """Decides one record as the job packs it; the raw JSON is validated here, once."""
    from fraudguard.flink.functions import FEATURE_INDEX
    from fraudguard.schema import Transaction, parse_transaction

    features, _late, _scored, doc = unpack_features(packed, FEATURE_INDEX)
    values = list(features.values())
    if validated:
        txn = Transaction.from_validated(doc)
    else:
        txn = parse_transaction(doc, int(time.time() * 1000))
    return decide_one(txn, values)


def arrow_batched_job(env: Any, settings: Settings, packed: Any, out_topic: str) -> Any:
    from pyflink.table import DataTypes, StreamTableEnvironment
    from pyflink.table.udf import udf

    t_env = StreamTableEnvironment.create(stream_execution_environment=env)
    makers: list[Any] = []

    @udf(result_type=DataTypes.BYTES(), func_type="pandas")
    def decide(rows):  # type: ignore[no-untyped-def]
        import pandas as pd

        if not makers:
            makers.append(decision_maker())
        return pd.Series([decide_packed(makers[0], p) for p in rows])

    t_env.create_temporary_function("decide", decide)
    t_env.create_temporary_view("packed", t_env.from_data_stream(packed))
    t_env.execute_sql(f"""
      CREATE TABLE decided (v BYTES) WITH (
        'connector' = 'kafka', 'topic' = '{out_topic}',
        'properties.bootstrap.servers' = '{settings.kafka.bootstrap_servers}', 'format' = 'raw',
        'sink.delivery-guarantee' = 'exactly-once',
        'sink.transactional-id-prefix' = 'spike-arrow-{uuid.uuid4().hex[:6]}',
        'properties.transaction.timeout.ms' = '{settings.flink.transaction_timeout_ms}')""")
    statements = t_env.create_statement_set()
    statements.add_insert_sql("INSERT INTO decided SELECT decide(f0) FROM packed")
    return lambda: statements.execute().wait()


def to_java_longs(jvm: Any, values: list[int]) -> Any:
    from pyflink.java_gateway import get_gateway

    array = get_gateway().new_array(jvm.long, len(values))
    for i, value in enumerate(values):
        array[i] = value
    return array


def measure(run: Any, out_settings: Settings, out_topic: str, n: int, variant: str) -> dict:
    """Runs the job in a thread and times its output between 10% and 90% of ``n`` records."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            run()
        except Exception as exc:  # noqa: BLE001 - reported below
            failure.append(exc)

    threading.Thread(target=target, daemon=True, name=f"spike-{variant}").start()
    tps = sustained_tps(out_settings, out_topic, n, stopped=lambda: bool(failure))
    if failure:
        causes = [line for line in str(failure[0]).splitlines() if "Caused by" in line]
        raise SystemExit(f"{variant} failed: {causes[-1:] or failure[0]}")
    time.sleep(4)  # two checkpoints: the tail is committed
    written = sum(1 for _ in read_topic(out_settings, out_topic, idle_timeout_s=0.0))
    log(f"{variant}: {written:,} of {n:,} committed; sustained {tps or 0:,.0f} tx/s")
    return {"throughput_tps": round(tps, 1) if tps else None, "records_committed": written}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--variant", choices=VARIANTS, help="run one variant (used by the loop)")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    if shutil.which("javac") is None:
        raise SystemExit("needs a JDK (javac) to compile bench/spike_hybrid/*.java")
    base = Settings.from_env(os.environ)
    if args.variant is None:
        # One process per variant: a PyFlink client runs one local mini-cluster at a time.
        LocalStack(base).up()
        results = {}
        for variant in args.variants.split(","):
            done = subprocess.run(
                [sys.executable, __file__, "--variant", variant,
                 "--transactions", str(args.transactions)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            lines = done.stdout.strip().splitlines()
            if done.returncode != 0 or not lines:
                log(done.stderr[-3000:])
                raise SystemExit(f"variant {variant} failed (exit {done.returncode})")
            results[variant] = json.loads(lines[-1])
            log(f"{variant}: {results[variant]}")
        record = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "transactions": args.transactions,
            "cpu_count": os.cpu_count(),
            "windowed_values": windowed_widths(),
            "variants": results,
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        text = json.dumps(record)
        (RESULTS / "spike_hybrid.json").write_text(text + "\n")
        print(text)
        return
    settings = base.isolated(f"h{uuid.uuid4().hex[:8]}", job_prefix="fraudguard-spike")
    create_topics(settings)
    workdir = Path(tempfile.mkdtemp(prefix="spike-hybrid-"))
    try:
        jar = build_jar(workdir, settings)
        config = GeneratorConfig(seed=0, cards=20_000, merchants=2_000, days=5.0)
        sent = produce_to_kafka(settings, PaymentStream(config.ending_at(int(time.time() * 1000))),
                                limit=args.transactions, labels=False)  # fmt: skip
        result = run_variant(settings, args.variant, sent.transactions, jar)
    finally:
        delete_topics(settings, [spec.name for spec in settings.topics.all()])
        delete_topics(settings, [f"{settings.topics.decisions.name}-{args.variant}"])
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(spike_checkpoints(settings), ignore_errors=True)
    print(json.dumps(result), flush=True)
    os._exit(0)  # the job thread of a streaming source never ends on its own


if __name__ == "__main__":
    main()
