"""Labelled history straight from the generator: for tests, benchmarks and a bootstrap model.

It computes features with the offline path (the job's own steps), the label-fed ones fed by
the generator's fraud labels, and labels with the generator's ground truth, exactly as
``fraudguard generate`` followed by ``fraudguard features build --labels`` would, without the
files in between.

>>> from fraudguard.generator import GeneratorConfig
>>> data = generated_history(GeneratorConfig(seed=2, cards=100, merchants=60, days=2))
>>> len(data) > 0, data.X.shape[1] == len(data.feature_names)
(True, True)
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from fraudguard.features import FEATURE_SET_VERSION, build_features
from fraudguard.features.labels import FraudLabels
from fraudguard.features.offline import feature_table
from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.training.data import VERSION_KEY, LabelledTable, from_feature_table

DEFAULT_DEDUPE_TTL_MS = 86_400_000


def generated_tables(
    config: GeneratorConfig, dedupe_ttl_ms: int = DEFAULT_DEDUPE_TTL_MS
) -> tuple[pa.Table, pa.Table]:
    """The feature table and the labels table of a generated stream."""
    from fraudguard.generator.sinks import labels_table

    batches = list(PaymentStream(config).batches())
    txns = [txn for batch in batches for txn in batch.transactions()]
    labels = labels_table([label for batch in batches for label in batch.labels])
    fraud = FraudLabels.of(labels.to_pylist())
    features = pa.table(feature_table(build_features(txns, dedupe_ttl_ms, labels=fraud.labels)))
    features = features.replace_schema_metadata({VERSION_KEY: FEATURE_SET_VERSION})
    return features, labels


def generated_history(
    config: GeneratorConfig, dedupe_ttl_ms: int = DEFAULT_DEDUPE_TTL_MS
) -> LabelledTable:
    """A generated stream as labelled training rows (every fraud label known)."""
    features, labels = generated_tables(config, dedupe_ttl_ms)
    fraud = labels.filter(pc.equal(labels["label"], "fraud"))["txn_id"].to_pylist()
    return from_feature_table(features, fraud)
