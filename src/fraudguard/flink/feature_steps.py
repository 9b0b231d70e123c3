"""The Java side of the job: batching across the Python bridge and the keyed feature steps.

The feature steps run the JVM feature kernel (``io.fraudguard.features``, built from the
registry's declarations by :func:`~fraudguard.features.spec.feature_spec`) in Java keyed
operators with checkpointed state: card (retries dropped; its history also says when it was
last seen at the merchant and the terminal), merchant with its terminals, and device. Python
validates before them and decides after them, each on batches of records.
"""

from __future__ import annotations

import json
from typing import Any

from fraudguard.config import Settings
from fraudguard.features.spec import feature_spec
from fraudguard.models.registry import serving_layout

CHAMPION_CHECK_MS = 1000
"""How often the job reads the champion pointer again: a promotion reaches it within this."""


def _jvm() -> Any:
    from pyflink.java_gateway import get_gateway

    return get_gateway().jvm


def _bytes_type() -> Any:
    from pyflink.common.typeinfo import Types

    return Types.PRIMITIVE_ARRAY(Types.BYTE()).get_java_type_info()


def micro_batches(stream: Any, settings: Settings, name: str) -> Any:
    """``stream`` of byte arrays packed into batches (see :mod:`fraudguard.flink.batches`)."""
    from pyflink.datastream import DataStream

    batcher = _jvm().io.fraudguard.flink.MicroBatch(
        settings.flink.batch_size, settings.flink.batch_delay_ms
    )
    j_stream = stream._j_data_stream.transform(name, _bytes_type(), batcher).uid(name)
    return DataStream(j_stream)


def unbatched(stream: Any, name: str) -> Any:
    """Batches of byte arrays back into their records."""
    from pyflink.datastream import DataStream

    j_stream = stream._j_data_stream.flatMap(_jvm().io.fraudguard.flink.Unbatch(), _bytes_type())
    return DataStream(j_stream.name(name).uid(name))


def event_clock(source: Any, settings: Settings) -> Any:
    """The transactions source's records, with the release of a quiet reader added to the
    source's watermarks (``io.fraudguard.flink.EventClock``)."""
    from pyflink.datastream import DataStream

    flink = settings.flink
    clock = _jvm().io.fraudguard.flink.EventClock(
        flink.quiet_reader_ms, flink.live_lag_ms, flink.idle_partition_ms,
        flink.watermark_interval_ms,
    )  # fmt: skip
    j_stream = source._j_data_stream.transform("event-clock", _bytes_type(), clock)
    return DataStream(j_stream.uid("event-clock"))


def stopped_in_event_time_order(stopped: Any, settings: Settings) -> Any:
    """The stopped decisions of every decision subtask, in processing order (event time, then
    ``txn_id``) once the watermark passes them (``io.fraudguard.flink.StoppedInEventTimeOrder``):
    the order the exposure caps are applied in offline. In arrival order
    (``flink.event_time_order`` off) they pass as they come."""
    from pyflink.datastream import DataStream

    if not settings.flink.event_time_order:
        return stopped

    flink = _jvm().io.fraudguard.flink
    j_type = stopped._j_data_stream.getType()
    ordered = (
        stopped._j_data_stream.keyBy(getattr(flink, "StoppedInEventTimeOrder$OneKey")())
        .process(flink.StoppedInEventTimeOrder(j_type), j_type)
        .name("stopped-in-order")
        .uid("stopped-in-order")
    )
    return DataStream(ordered)


def transactions_watermarks(settings: Settings) -> Any:
    """Each partition's watermark trails its newest record timestamp (the event time) by
    ``out_of_orderness_ms``; a partition silent for ``idle_partition_ms`` stops holding the
    others back."""
    from pyflink.common import Duration, WatermarkStrategy

    flink = settings.flink
    return WatermarkStrategy.for_bounded_out_of_orderness(
        Duration.of_millis(flink.out_of_orderness_ms)
    ).with_idleness(Duration.of_millis(flink.idle_partition_ms))


def fraud_labels(labels: Any, settings: Settings) -> Any:
    """The ``labels`` topic's records to the fraud labels the feature steps keep
    (``io.fraudguard.flink.ParseLabel``; the others counted by reason), with their report time
    as event time. They hold the payments back only while a backlog of them is read
    (``LabelClock``: at the start until the first label or ``flink.idle_partition_ms``, then
    while labels keep coming ``flink.quiet_reader_ms`` apart or less), and emit no watermark:
    a label later on waits for the payments' watermark, or is applied on arrival when behind it.
    """
    from pyflink.datastream import DataStream

    jvm, flink = _jvm(), settings.flink
    enriched = jvm.org.apache.flink.api.common.typeinfo.TypeInformation.of(
        jvm.io.fraudguard.flink.Enriched().getClass()
    )
    parsed = labels._j_data_stream.flatMap(jvm.io.fraudguard.flink.ParseLabel(), enriched)
    parsed = parsed.name("read-labels").uid("read-labels").setParallelism(1)  # one partition
    strategy = jvm.io.fraudguard.flink.ParseLabel.watermarks(
        flink.idle_partition_ms, flink.quiet_reader_ms
    )
    timed = parsed.assignTimestampsAndWatermarks(strategy).name("label-time").uid("label-time")
    timed = timed.setParallelism(1)
    return DataStream(timed)


def feature_steps(validated: Any, settings: Settings, parse: Any = None, labels: Any = None) -> Any:
    """Validated transactions' JSON in; each with its features and the champion model's base
    score, packed for the decision, out (``io.fraudguard.flink.PackForDecision``). A retried
    transaction id comes out once.

    ``parse`` reads the records in (default ``ParseValidated``); a benchmark may hand it a
    subclass reading other records. ``labels`` (from :func:`fraud_labels`) join the payments
    before the keyed steps, which keep them for the label-fed features.
    """
    from pyflink.datastream import DataStream

    jvm, spec = _jvm(), json.dumps(feature_spec())
    flink = jvm.io.fraudguard.flink
    enriched = jvm.org.apache.flink.api.common.typeinfo.TypeInformation.of(
        flink.Enriched().getClass()
    )
    parse = parse if parse is not None else flink.ParseValidated(spec)
    stream = validated._j_data_stream.map(parse, enriched)
    stream = stream.name("read-validated").uid("read-validated")
    if labels is not None:
        stream = DataStream(stream).union(labels)._j_data_stream

    def keyed_step(stream: Any, key: str, name: str, apply: Any) -> Any:
        step = apply(stream.keyBy(flink.EntityKey(key)))
        # Fixed forever: a savepoint maps state to operators by uid. A change of a state's
        # layout gets a new serializer version instead (docs/operations.md, State and upgrades).
        return step.name(name).uid(name)

    # Nested classes: Py4J names them Outer$Inner. The merchant step is an operator of its own,
    # not a function: it writes its state behind a cache, at checkpoints (see MerchantStep).
    ordered = settings.flink.event_time_order
    card = getattr(flink, "FeatureSteps$Card")(spec, settings.flink.dedupe_ttl_ms, ordered)
    merchant = flink.MerchantStep(spec, settings.flink.merchant_state_cache, ordered)
    device = getattr(flink, "FeatureSteps$Device")(spec, ordered)
    stream = keyed_step(stream, "card", "card-features", lambda s: s.process(card, enriched))
    stream = keyed_step(
        stream,
        "merchant",
        "merchant-features",
        lambda s: s.transform("merchant-features", enriched, merchant),
    )
    stream = keyed_step(stream, "device", "device-features", lambda s: s.process(device, enriched))
    if settings.redis.online_store:
        stream = stream.map(online_store_writes(settings, spec), enriched)
        stream = stream.name("online-store").uid("online-store")
    # The champion's base score is made here, in the JVM (see PackForDecision's comment).
    layout = json.dumps(serving_layout())
    pack = flink.PackForDecision(str(settings.models_dir), layout, spec, CHAMPION_CHECK_MS)
    packed = stream.map(pack, _bytes_type())
    return DataStream(packed.name("pack-for-decision").uid("pack-for-decision"))


def online_store_writes(settings: Settings, spec: str) -> Any:
    """The Java writer of the newest card and merchant features, with the store's own script."""
    from fraudguard.features.online_store import DEFAULT_TTL_S, PUT_IF_NEWER_SCRIPT

    redis = settings.redis
    return _jvm().io.fraudguard.flink.OnlineStoreWrites(
        redis.host, redis.port, redis.db, redis.feature_prefix, DEFAULT_TTL_S,
        PUT_IF_NEWER_SCRIPT, spec, 500, 500,
    )  # fmt: skip
