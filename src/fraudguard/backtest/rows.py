"""The backtest's rows from the JVM: each transaction with its features and base scores.

``io.fraudguard.tools.BacktestRows`` (``jvm/tools``) streams a transactions file through the
job's feature kernel and compiled-tree scorer in the file's order, as the job meets a topic,
and writes batches to its stdout; :func:`scored_rows` reads them as they come. Strings arrive
in Arrow's layout (offsets, then bytes), so a batch becomes Arrow arrays without a Python
object per row, and memory holds one batch here and the entities' states there.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.features.labels import FraudLabel
from fraudguard.features.registry import FEATURE_NAMES
from fraudguard.features.spec import write_feature_spec
from fraudguard.jvm import classpath
from fraudguard.models.registry import serving_layout
from fraudguard.stack.health import check_java

MAIN_CLASS = "io.fraudguard.tools.BacktestRows"
STRING_COLUMNS = (
    "txn_id", "card_id", "event_time", "merchant_id", "currency", "mcc", "country", "channel",
    "terminal_id",
)  # fmt: skip
"""The transaction's text fields, in the order the JVM writes them."""
CHAMPION = "champion"
"""The model version that means whatever the registry's pointer names."""
NEVER_MS, FOREVER_MS = -(2**63), 2**63 - 1
JVM_OPTIONS = ("-XX:+UseParallelGC",)


def jvm_heap_options(settings: Settings) -> list[str]:
    """The backtest JVM's heap: capped, so memory stays bounded by the entities' states.

    >>> jvm_heap_options(Settings())
    ['-Xmx1024m', '-Xmn512m']
    """
    heap = settings.backtest.jvm_heap_mb
    return [f"-Xmx{heap}m", f"-Xmn{heap // 2}m"]


@dataclass(frozen=True)
class RowBatch:
    """Answered transactions, in the order the job would decide them."""

    text: dict[str, pa.StringArray]
    ts_ms: np.ndarray
    amount: np.ndarray
    late: np.ndarray
    features: np.ndarray
    """``(n, len(FEATURE_NAMES))`` float64, registry order."""
    scores: list[np.ndarray]
    """Per model asked for, its base scores (NaN: no model, the rules answer)."""

    def __len__(self) -> int:
        return len(self.ts_ms)

    @classmethod
    def empty(cls, models: int) -> RowBatch:
        """No rows: what a period without transactions decides, for the files' schema."""
        text = {name: pa.array([], pa.string()) for name in STRING_COLUMNS}
        none = np.empty(0)
        features = np.empty((0, len(FEATURE_NAMES)))
        return cls(text, np.empty(0, np.int64), none, np.empty(0, bool), features, [none] * models)


def _exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise StackError(f"{MAIN_CLASS} stopped mid-batch ({len(data)} of {size} bytes)")
    return data


def read_batch(stream: IO[bytes], models: int) -> RowBatch | None:
    """The next batch of ``stream``, or None at its end mark."""
    n = int.from_bytes(_exactly(stream, 4), "little")
    if n == 0:
        return None
    text = {}
    for name in STRING_COLUMNS:
        length = int.from_bytes(_exactly(stream, 4), "little")
        offsets = pa.py_buffer(_exactly(stream, 4 * (n + 1)))
        data = pa.py_buffer(_exactly(stream, length))
        text[name] = pa.Array.from_buffers(pa.string(), n, [None, offsets, data])
    width = len(FEATURE_NAMES)
    numbers = _exactly(stream, n * (8 + 8 + 1 + 8 * width + 8 * models))
    ts_ms = np.frombuffer(numbers, "<i8", n, 0)
    amount = np.frombuffer(numbers, "<f8", n, 8 * n)
    late = np.frombuffer(numbers, np.bool_, n, 16 * n)
    at = 17 * n
    # Column by column on the wire: the transpose is a view, each feature's column contiguous.
    features = np.frombuffer(numbers, "<f8", n * width, at).reshape(width, n).T
    at += 8 * n * width
    scores = [np.frombuffer(numbers, "<f8", n, at + 8 * n * m) for m in range(models)]
    return RowBatch(text, ts_ms, amount, late, features, scores)


@dataclass
class JvmRun:
    """What the JVM half reports when it is done (``summary`` is filled at the end)."""

    versions: Sequence[str]
    summary: dict[str, Any]


def scored_rows(
    transactions: Path,
    settings: Settings,
    versions: Sequence[str],
    dedupe_ttl_ms: int | None = None,
    from_ms: int = NEVER_MS,
    to_ms: int = FOREVER_MS,
    batch_rows: int = 32_768,
    run: JvmRun | None = None,
    labels: Sequence[FraudLabel] = (),
) -> Iterator[RowBatch]:
    """Batches of ``transactions`` (the wire format, one JSON object a line) with features and
    one base score per model of ``versions`` (registry versions, ``champion``, or ``rules``).
    Every transaction feeds the states; batches hold those with ``from_ms <= ts_ms < to_ms``.
    ``labels`` feed the label-fed features: each before the first transaction of the file
    after its report time, as the job applies them. ``run``, when given, receives the JVM's
    summary (served versions, timings, peak heap, labels read and applied)."""
    from fraudguard.features.jvm import write_fraud_labels

    ttl = settings.flink.dedupe_ttl_ms if dedupe_ttl_ms is None else dedupe_ttl_ms
    with tempfile.TemporaryDirectory(prefix="fraudguard-backtest-") as folder:
        spec = write_feature_spec(Path(folder) / "spec.json")
        summary = Path(folder) / "summary.json"
        args = [
            str(spec), str(settings.models_dir), json.dumps(serving_layout()), ",".join(versions),
            str(ttl), str(from_ms), str(to_ms), str(batch_rows), str(transactions), str(summary),
        ]  # fmt: skip
        if labels:
            args.append(str(write_fraud_labels(Path(folder) / "labels.jsonl", labels)))
        # The job's collector: the backtest makes garbage at one core's full speed, and
        # ParallelGC collects it with the least overhead (measured faster than G1 here).
        command = [check_java(), *JVM_OPTIONS, *jvm_heap_options(settings), "-cp",
                   classpath(settings), MAIN_CLASS, *args]  # fmt: skip
        errors = tempfile.TemporaryFile()
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors) as process:
            assert process.stdout is not None
            complete = False
            try:
                while (batch := read_batch(process.stdout, len(versions))) is not None:
                    yield batch
                complete = True
            except StackError:
                process.wait()
                errors.seek(0)
                raise StackError(
                    f"{MAIN_CLASS} failed (exit {process.returncode}): "
                    f"{errors.read().decode(errors='replace').strip()[-2000:]}"
                ) from None
            finally:
                if not complete and process.poll() is None:
                    process.kill()  # the reader stopped early: the rest is not wanted
        if complete and process.returncode != 0:
            raise StackError(f"{MAIN_CLASS} failed (exit {process.returncode})")
        if run is not None and complete:
            run.summary = json.loads(summary.read_text())
