"""Kafka source and exactly-once sinks of the scoring job."""

from __future__ import annotations

from typing import Any

from fraudguard.config import Settings

TOMBSTONE_FRAME = 0
"""First byte of a framed record without a value (see :func:`unframe`)."""
VALUE_FRAME = 1
"""First byte of a framed record whose value follows."""
FRAMED_DESERIALIZER = "io.fraudguard.flink.FramedValueDeserializer"
"""The Java class (``jvm/flink``, built by ``make jvm``) that frames values."""
DECISION_KEY = "io.fraudguard.flink.DecisionKey"
"""The Java class (``jvm/flink``) that keys a decision record by its ``txn_id``."""


def _java(class_name: str) -> Any:
    """A new instance of one of the project's Java classes (no PyFlink wrapper exists)."""
    from pyflink.java_gateway import get_gateway

    target = get_gateway().jvm
    for part in class_name.split("."):
        target = getattr(target, part)
    return target()


def unframe(framed: bytes) -> bytes | None:
    """The value of a record framed by the transactions source; None for a tombstone.

    >>> unframe(b"\\x01{}"), unframe(b"\\x00"), unframe(b"\\x01")
    (b'{}', None, b'')
    """
    if framed[:1] == b"\x01":
        return framed[1:]
    if framed == b"\x00":
        return None
    raise ValueError(f"not a framed record (first byte {framed[:1]!r})")


def transactions_source(settings: Settings) -> Any:
    """Every record of the ``transactions`` topic as framed bytes, tombstones included.

    Flink's value-only deserializers drop a record without a value, which would leave a
    tombstone with neither a decision nor a dead-letter record; the project's Java
    deserializer frames each value instead (:func:`unframe` reads it). The job validates the
    bytes itself, so a bad message becomes a dead-letter record, not a deserialisation failure.
    """
    from pyflink.datastream.connectors.kafka import (
        KafkaOffsetResetStrategy,
        KafkaOffsetsInitializer,
        KafkaSource,
    )

    builder = KafkaSource.builder()
    builder._j_builder.setDeserializer(_java(FRAMED_DESERIALIZER))
    return (
        builder.set_bootstrap_servers(settings.kafka.bootstrap_servers)
        .set_topics(settings.topics.transactions.name)
        .set_group_id(settings.flink.job_name)
        # A checkpoint's offsets win on restore; otherwise continue from the group's committed
        # offsets, and a brand-new group starts at the beginning so nothing is skipped.
        .set_starting_offsets(
            KafkaOffsetsInitializer.committed_offsets(KafkaOffsetResetStrategy.EARLIEST)
        )
        .set_property("isolation.level", "read_committed")
        .set_property("partition.discovery.interval.ms", "30000")
        .set_property("commit.offsets.on.checkpoint", "true")
        .build()
    )


def control_source(settings: Settings) -> Any:
    """The ``control`` topic from its beginning: every change is replayed at start, in order,
    so the newest of each type is in force (and a restart restores it from the checkpoint).
    Read by one subtask (see :func:`control_watermarks`)."""
    from pyflink.common.serialization import ByteArraySchema
    from pyflink.datastream.connectors.kafka import KafkaOffsetsInitializer, KafkaSource

    return (
        KafkaSource.builder()
        .set_bootstrap_servers(settings.kafka.bootstrap_servers)
        .set_topics(settings.topics.control.name)
        .set_group_id(f"{settings.flink.job_name}-control")
        .set_starting_offsets(KafkaOffsetsInitializer.earliest())
        .set_value_only_deserializer(ByteArraySchema())
        .set_property("isolation.level", "read_committed")
        .set_property("partition.discovery.interval.ms", "30000")
        .build()
    )


def labels_source(settings: Settings) -> Any:
    """The ``labels`` topic from its beginning (a checkpoint's offsets win on restore): every
    fraud label ever reported feeds the label-fed features, exactly once with the state."""
    from pyflink.common.serialization import ByteArraySchema
    from pyflink.datastream.connectors.kafka import (
        KafkaOffsetResetStrategy,
        KafkaOffsetsInitializer,
        KafkaSource,
    )

    return (
        KafkaSource.builder()
        .set_bootstrap_servers(settings.kafka.bootstrap_servers)
        .set_topics(settings.topics.labels.name)
        .set_group_id(f"{settings.flink.job_name}-labels")
        .set_starting_offsets(
            KafkaOffsetsInitializer.committed_offsets(KafkaOffsetResetStrategy.EARLIEST)
        )
        .set_value_only_deserializer(ByteArraySchema())
        .set_property("isolation.level", "read_committed")
        .set_property("partition.discovery.interval.ms", "30000")
        .set_property("commit.offsets.on.checkpoint", "true")
        .build()
    )


CONTROL_IDLE_MS = 200
"""A control topic silent for this long stops holding back the decision step's watermark."""


def control_watermarks() -> Any:
    """The control topic's watermark trails its newest message (stamped when published) and
    the topic counts as idle after :data:`CONTROL_IDLE_MS` without one. The decision step's
    watermark is the lesser of its two inputs', and the exploration step behind it orders the
    stopped decisions by it: a control input without watermarks would hold it at the start
    for ever. A message holds it back until the payments' event time passes the message's
    time or the topic is idle again, whichever comes first."""
    from pyflink.common import Duration, WatermarkStrategy

    return WatermarkStrategy.for_monotonous_timestamps().with_idleness(
        Duration.of_millis(CONTROL_IDLE_MS)
    )


def exactly_once_sink(
    settings: Settings, topic: str, purpose: str, keyed_by_txn_id: bool = False
) -> Any:
    """A transactional Kafka sink: records become visible to ``read_committed`` readers when the
    checkpoint that covers them completes, and a restart never writes them twice.

    ``keyed_by_txn_id``: each record (a decision) gets its ``txn_id`` as the Kafka key, so
    Kafka's partitioner places it by that id.
    """
    from pyflink.common.serialization import ByteArraySchema, SerializationSchema
    from pyflink.datastream.connectors.base import DeliveryGuarantee
    from pyflink.datastream.connectors.kafka import KafkaRecordSerializationSchema, KafkaSink

    builder = (
        KafkaRecordSerializationSchema.builder()
        .set_topic(topic)
        .set_value_serialization_schema(ByteArraySchema())
    )
    if keyed_by_txn_id:
        builder.set_key_serialization_schema(SerializationSchema(_java(DECISION_KEY)))
    serializer = builder.build()
    return (
        KafkaSink.builder()
        .set_bootstrap_servers(settings.kafka.bootstrap_servers)
        .set_record_serializer(serializer)
        .set_delivery_guarantee(DeliveryGuarantee.EXACTLY_ONCE)
        # Unique per job and sink: two writers sharing a prefix would fence each other.
        .set_transactional_id_prefix(f"{settings.flink.job_name}-{purpose}")
        .set_property("transaction.timeout.ms", str(settings.flink.transaction_timeout_ms))
        .set_property("linger.ms", str(settings.flink.sink_linger_ms))
        .set_property("compression.type", "lz4")
        # A decision is about 2 KB: 16 KB batches (the default) started a new LZ4 stream, with
        # its 64 KB buffers, every eight records.
        .set_property("batch.size", str(256 * 1024))
        .build()
    )
