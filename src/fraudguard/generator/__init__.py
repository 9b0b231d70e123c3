"""Synthetic card payments with labelled fraud, for tests, demos and benchmarks.

>>> from fraudguard.generator import GeneratorConfig, PaymentStream
>>> stream = PaymentStream(GeneratorConfig(seed=3, cards=200, merchants=60, days=1))
>>> txn = next(stream.transactions())
>>> txn.txn_id, txn.channel in ("card_present", "online")
('t0000000000', True)
"""

from fraudguard.generator.batch import TransactionBatch
from fraudguard.generator.config import SCENARIOS, GeneratorConfig
from fraudguard.generator.kafka_sink import produce_to_kafka
from fraudguard.generator.labels import GroundTruthLabel
from fraudguard.generator.report import FileReport, ProduceReport
from fraudguard.generator.sinks import read_records, write_files
from fraudguard.generator.stream import PaymentStream

__all__ = [
    "SCENARIOS",
    "FileReport",
    "GeneratorConfig",
    "GroundTruthLabel",
    "PaymentStream",
    "ProduceReport",
    "TransactionBatch",
    "produce_to_kafka",
    "read_records",
    "write_files",
]
