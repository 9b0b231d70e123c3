"""The online feature store contract, checked on every implementation: the in-memory store
always, the Redis store on the real local stack (integration)."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable, Iterator

import orjson
import pytest
import redis

from fraudguard.config import RedisSettings, Settings
from fraudguard.errors import StoreError
from fraudguard.features.online_store import (
    FeatureStore,
    InMemoryFeatureStore,
    OnlineFeatureStore,
    StoredFeatures,
)

MakeStore = Callable[..., FeatureStore]


@pytest.fixture
def prefix() -> str:
    """A key prefix of the test's own, so tests never see each other's keys."""
    return f"fg:test:{uuid.uuid4().hex}"


@pytest.fixture
def redis_client(stack_settings: Settings, prefix: str) -> Iterator[redis.Redis]:
    """A client of the stack's Redis; deletes the test's keys afterwards."""
    r = stack_settings.redis
    client = redis.Redis(host=r.host, port=r.port, db=r.db)
    yield client
    OnlineFeatureStore(client, key_prefix=prefix).clear()
    client.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def make_store(request: pytest.FixtureRequest, prefix: str) -> MakeStore:
    """Builds a fresh store of one implementation; stores built in one test share their data."""
    if request.param == "memory":
        shared = InMemoryFeatureStore()

        def memory(flush_every: int = 500) -> FeatureStore:
            store = InMemoryFeatureStore(flush_every=flush_every)
            store._data = shared._data  # one backing "server" per test, like Redis
            return store

        return memory
    client: redis.Redis = request.getfixturevalue("redis_client")

    def online(flush_every: int = 500) -> FeatureStore:
        return OnlineFeatureStore(client, key_prefix=prefix, flush_every=flush_every)

    return online


@pytest.fixture
def store(make_store: MakeStore) -> FeatureStore:
    return make_store()


def write(store: FeatureStore, ts_ms: int, txn_id: str, value: float, card: str = "c1") -> None:
    store.put("card", card, ts_ms, txn_id, {"amount": value, "count_1h": 1.0})


def amount(store: FeatureStore, card: str = "c1") -> float | None:
    got = store.get("card", card)
    return None if got is None else got.features["amount"]


# --- the contract, on every implementation ---------------------------------------------------


def test_both_stores_satisfy_the_protocol(store: FeatureStore) -> None:
    assert isinstance(store, FeatureStore)


def test_get_of_an_unknown_key_is_none(store: FeatureStore) -> None:
    assert store.get("card", "never-written") is None


def test_a_newer_write_is_applied(store: FeatureStore) -> None:
    write(store, 1000, "t1", 10.0)
    assert store.flush() == 1
    write(store, 2000, "t2", 20.0)
    assert store.flush() == 1
    assert store.get("card", "c1") == StoredFeatures(2000, "t2", {"amount": 20.0, "count_1h": 1.0})


def test_an_older_write_is_ignored(store: FeatureStore) -> None:
    write(store, 2000, "t2", 20.0)
    store.flush()
    write(store, 1000, "t9", 10.0)  # the greater txn id does not matter: ts comes first
    assert store.flush() == 0
    assert store.get("card", "c1") == StoredFeatures(2000, "t2", {"amount": 20.0, "count_1h": 1.0})


def test_an_equal_version_is_ignored(store: FeatureStore) -> None:
    write(store, 2000, "t2", 20.0)
    store.flush()
    write(store, 2000, "t2", 99.0)
    assert store.flush() == 0
    assert amount(store) == 20.0


def test_same_ts_orders_by_txn_id_as_a_string(store: FeatureStore) -> None:
    write(store, 1000, "t5", 5.0)
    store.flush()
    write(store, 1000, "t6", 6.0)
    assert store.flush() == 1
    assert amount(store) == 6.0
    write(store, 1000, "t10", 10.0)  # "t10" < "t6" as strings
    assert store.flush() == 0
    assert amount(store) == 6.0
    write(store, 1000, "t60", 60.0)  # a string is smaller than its extensions
    assert store.flush() == 1
    write(store, 1000, "t6", 6.0)
    assert store.flush() == 0
    assert amount(store) == 60.0


def test_txn_ids_compare_by_code_point_not_by_locale(store: FeatureStore) -> None:
    # Code point order: "B" < "a" < "é"; a locale-aware collation would put "a" before "B".
    write(store, 1000, "B", 1.0)
    store.flush()
    write(store, 1000, "a", 2.0)
    assert store.flush() == 1
    write(store, 1000, "é", 3.0)
    assert store.flush() == 1
    write(store, 1000, "b", 4.0)
    assert store.flush() == 0
    assert amount(store) == 3.0


def test_timestamps_compare_exactly_up_to_2_pow_53(store: FeatureStore) -> None:
    write(store, 2**53 - 1, "t1", 1.0)
    store.flush()
    write(store, 2**53 - 2, "t2", 2.0)
    assert store.flush() == 0
    assert store.get("card", "c1") == StoredFeatures(
        2**53 - 1, "t1", {"amount": 1.0, "count_1h": 1.0}
    )


def test_a_buffer_keeps_only_the_newest_write_per_key(store: FeatureStore) -> None:
    write(store, 2000, "t2", 20.0)
    write(store, 3000, "t3", 30.0)
    write(store, 1000, "t1", 10.0)
    write(store, 3000, "t0", 0.5)
    write(store, 2000, "t2", 20.0, card="c2")
    assert len(store) == 2
    assert store.flush() == 2
    assert amount(store) == 30.0
    assert amount(store, "c2") == 20.0


def test_flush_counts_only_applied_writes(store: FeatureStore) -> None:
    assert store.flush() == 0  # nothing buffered
    for card in ("c1", "c2", "c3"):
        write(store, 2000, "t2", 1.0, card=card)
    assert store.flush() == 3
    write(store, 1000, "t1", 2.0, card="c1")  # older: ignored
    write(store, 2000, "t2", 2.0, card="c2")  # equal: ignored
    write(store, 3000, "t3", 2.0, card="c3")  # newer: applied
    write(store, 1000, "t1", 2.0, card="c4")  # new key: applied
    assert store.flush() == 2
    assert store.flush() == 0  # the buffer is empty again


def test_the_buffer_flushes_itself_at_flush_every_keys(make_store: MakeStore) -> None:
    store = make_store(flush_every=3)
    write(store, 1000, "t1", 1.0, card="c1")
    write(store, 2000, "t2", 2.0, card="c1")  # same key: still one buffered key
    write(store, 1000, "t1", 1.0, card="c2")
    assert store.get("card", "c1") is None  # buffered writes are not visible
    write(store, 1000, "t1", 1.0, card="c3")
    assert len(store) == 0
    assert amount(store, "c1") == 2.0


def test_an_applied_write_replaces_all_features(store: FeatureStore) -> None:
    store.put("card", "c1", 1000, "t1", {"a": 1.0, "b": 2.0})
    store.flush()
    store.put("card", "c1", 2000, "t2", {"a": 3.0})
    store.flush()
    assert store.get("card", "c1") == StoredFeatures(2000, "t2", {"a": 3.0})
    store.put("card", "c1", 3000, "t3", {})
    store.flush()
    assert store.get("card", "c1") == StoredFeatures(3000, "t3", {})


def test_entities_and_ids_are_separate_keys(store: FeatureStore) -> None:
    store.put("card", "x1", 1000, "t1", {"a": 1.0})
    store.put("merchant", "x1", 1000, "t1", {"a": 2.0})
    store.put("card", "x1:y", 1000, "t1", {"a": 3.0})  # ids may contain ':'
    assert store.flush() == 3
    got = [store.get(e, i) for e, i in [("card", "x1"), ("merchant", "x1"), ("card", "x1:y")]]
    assert [g.features["a"] if g else None for g in got] == [1.0, 2.0, 3.0]


def test_floats_round_trip_exactly(store: FeatureStore) -> None:
    values = {"third": 1 / 3, "tiny": 5e-324, "huge": 1.7976931348623157e308, "neg_zero": -0.0}
    values |= {"inf": math.inf, "ninf": -math.inf, "int": 3}  # type: ignore[dict-item]
    store.put("card", "c1", 1000, "t1", values)
    store.flush()
    got = store.get("card", "c1")
    assert got is not None
    assert got.features == values
    assert all(type(v) is float for v in got.features.values())
    assert math.copysign(1.0, got.features["neg_zero"]) == -1.0


def test_feature_names_of_any_text_round_trip(store: FeatureStore) -> None:
    features = {'quote"d': 1.0, "back\\slash": 2.0, "new\nline": 3.0, "é €": 4.0, "[1,2]": 5.0}
    store.put("card", "c1", 1000, "t1", features)
    store.flush()
    got = store.get("card", "c1")
    assert got is not None and got.features == features


def test_the_callers_dict_is_copied_not_kept(store: FeatureStore) -> None:
    features = {"a": 1.0}
    store.put("card", "c1", 1000, "t1", features)
    features["a"] = 99.0
    store.flush()
    got = store.get("card", "c1")
    assert got is not None and got.features == {"a": 1.0}
    got.features["a"] = 42.0
    assert amount_of(store, "a") == 1.0


def amount_of(store: FeatureStore, name: str) -> float:
    got = store.get("card", "c1")
    assert got is not None
    return got.features[name]


def test_a_replay_never_moves_values_backwards(make_store: MakeStore) -> None:
    events = [(1000 + 10 * i, f"t{i:04d}", float(i)) for i in range(50)]
    first = make_store(flush_every=7)
    for ts, txn, value in events:
        write(first, ts, txn, value)
    first.flush()
    newest = StoredFeatures(1490, "t0049", {"amount": 49.0, "count_1h": 1.0})
    assert first.get("card", "c1") == newest

    # A restart replays the whole stream, then an older suffix, with other buffer boundaries.
    second = make_store(flush_every=3)
    for ts, txn, value in events + events[20:]:
        write(second, ts, txn, value)
        assert second.get("card", "c1") == newest  # never an older value, even mid-replay
    assert second.flush() == 0
    assert second.get("card", "c1") == newest


@pytest.mark.parametrize(
    ("entity", "entity_id", "ts_ms", "txn_id", "features", "message"),
    [
        ("", "c1", 1, "t1", {}, "entity"),
        ("card:x", "c1", 1, "t1", {}, "entity"),
        ("card", "", 1, "t1", {}, "entity_id"),
        ("card", "c1", 1.5, "t1", {}, "ts_ms"),
        ("card", "c1", True, "t1", {}, "ts_ms"),
        ("card", "c1", -1, "t1", {}, "ts_ms"),
        ("card", "c1", 2**53, "t1", {}, "ts_ms"),
        ("card", "c1", 1, "", {}, "txn_id"),
        ("card", "c1", 1, "t1", {"_ts": 1.0}, "feature names"),
        ("card", "c1", 1, "t1", {"": 1.0}, "feature names"),
    ],
)
def test_invalid_writes_are_refused(
    store: FeatureStore,
    entity: str,
    entity_id: str,
    ts_ms: int,
    txn_id: str,
    features: dict[str, float],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        store.put(entity, entity_id, ts_ms, txn_id, features)
    assert store.flush() == 0


# --- Redis only --------------------------------------------------------------------------------


@pytest.mark.integration
def test_redis_key_layout(redis_client: redis.Redis, prefix: str) -> None:
    store = OnlineFeatureStore(redis_client, key_prefix=prefix)
    store.put("card", "c000042", 1795428000512, "t0000001", {"amount_sum_1h": 0.1, "n": 2})
    store.flush()
    held = redis_client.hgetall(f"{prefix}:card:c000042")
    names_id = held.pop(b"_names")
    assert held == {
        b"_ts": b"1795428000512",
        b"_txn": b"t0000001",
        b"_values": b"0.1,2.0",
    }
    assert orjson.loads(redis_client.get(f"{prefix}:names:{names_id.decode()}")) == [
        "amount_sum_1h",
        "n",
    ]


@pytest.mark.integration
def test_a_hash_of_the_older_layout_is_named_on_read_and_replaced_by_the_next_write(
    redis_client: redis.Redis, prefix: str
) -> None:
    store = OnlineFeatureStore(redis_client, key_prefix=prefix)
    key = store.key_for("card", "c1")
    redis_client.hset(key, mapping={"_ts": "1000", "_txn": "t1", "stale_feature": "7.0"})
    with pytest.raises(StoreError, match="older version"):
        store.get("card", "c1")
    write(store, 2000, "t2", 2.5)
    store.flush()
    assert b"stale_feature" not in redis_client.hgetall(key)
    assert amount(store, "c1") == 2.5


@pytest.mark.integration
def test_redis_ttl_is_set_and_refreshed_only_by_applied_writes(
    redis_client: redis.Redis, prefix: str
) -> None:
    store = OnlineFeatureStore(redis_client, key_prefix=prefix, ttl_s=3600)
    key = store.key_for("card", "c1")
    write(store, 1000, "t1", 1.0)
    store.flush()
    assert 3590 <= redis_client.ttl(key) <= 3600
    redis_client.expire(key, 100)
    write(store, 500, "t0", 0.5)  # ignored: TTL untouched
    store.flush()
    assert redis_client.ttl(key) <= 100
    write(store, 2000, "t2", 2.0)  # applied: TTL refreshed
    store.flush()
    assert 3590 <= redis_client.ttl(key) <= 3600


@pytest.mark.integration
def test_redis_without_ttl_keys_persist(redis_client: redis.Redis, prefix: str) -> None:
    store = OnlineFeatureStore(redis_client, key_prefix=prefix, ttl_s=None)
    write(store, 1000, "t1", 1.0)
    store.flush()
    assert redis_client.ttl(store.key_for("card", "c1")) == -1


@pytest.mark.integration
def test_redis_flush_is_one_call_of_the_registered_script(
    redis_client: redis.Redis, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = OnlineFeatureStore(redis_client, key_prefix=prefix)
    for i in range(20):
        write(store, 1000, "t1", 1.0, card=f"c{i}")
    calls: list[int] = []
    original = store._script.__call__

    def counting(keys: list[str], args: list[object]) -> object:
        calls.append(len(keys))
        return original(keys=keys, args=args)

    monkeypatch.setattr(store, "_script", counting)
    assert store.flush() == 20
    assert calls == [20]
    assert redis_client.script_exists(original.__self__.sha) == [True]


def test_from_settings_points_at_the_configured_redis() -> None:
    settings = Settings(redis=RedisSettings(host="127.0.0.2", port=16379, db=3))
    store = OnlineFeatureStore.from_settings(settings)  # connects lazily: no server needed
    kwargs = store.client.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.2", 16379, 3)
    assert (store.key_prefix, store.flush_every, store.ttl_s) == ("fg:features", 500, 35 * 86400)
    assert store.key_for("merchant", "m00017") == "fg:features:merchant:m00017"


def test_a_failed_flush_keeps_the_buffer_for_a_retry() -> None:
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)  # nothing listens
    store = OnlineFeatureStore(client, flush_every=10)
    store.put("card", "c1", 1000, "t1", {"a": 1.0})
    with pytest.raises(redis.ConnectionError):
        store.flush()
    assert len(store) == 1


def test_take_then_send_applies_what_was_buffered_and_leaves_the_buffer_empty() -> None:
    store = InMemoryFeatureStore()
    write(store, 1000, "t1", 1.0)
    detached = store.take()
    assert len(store) == 0
    write(store, 2000, "t2", 2.0, card="c2")  # buffered while the first batch is being sent
    assert store.send(detached) == 1
    assert store.get("card", "c1") is not None and store.get("card", "c2") is None
    assert store.flush() == 1


@pytest.mark.integration
def test_feature_values_round_trip_exactly_through_redis(stack_settings: Settings) -> None:
    """Values travel to Redis as text: every double must come back as the same double."""
    store = OnlineFeatureStore.from_settings(stack_settings.isolated(uuid.uuid4().hex[:8]))
    rng = random.Random(5)
    values = [rng.uniform(-1e6, 1e6) for _ in range(40)] + [
        0.1, 1e-05, 1e22, 5e-324, -0.0, 123456789.123, float("nan"), float("inf"), 2.0 ** 60,
    ]  # fmt: skip
    names = tuple(f"f{i}" for i in range(len(values)))
    store.put_values("card", "c-exact", 1_000, "t1", names, values)
    store.flush()
    got = store.get("card", "c-exact")
    assert got is not None
    for name, value in zip(names, values, strict=True):
        assert repr(got.features[name]) == repr(value), name


@pytest.mark.integration
def test_clear_deletes_only_its_own_prefix(stack_settings: Settings) -> None:
    mine = OnlineFeatureStore.from_settings(stack_settings.isolated(uuid.uuid4().hex[:8]))
    other = OnlineFeatureStore.from_settings(stack_settings.isolated(uuid.uuid4().hex[:8]))
    for store in (mine, other):
        for i in range(1500):  # more than one deletion batch
            store.put("card", f"c{i}", 1_000, "t1", {"a": 1.0})
        store.flush()
    assert mine.clear() == 1501  # the hashes and their one list of names
    assert mine.get("card", "c7") is None and other.get("card", "c7") is not None
    assert other.clear() == 1501
