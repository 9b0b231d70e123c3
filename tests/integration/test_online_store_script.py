"""The online store's rules, on the real Redis: the Lua script the job's JVM runs
(``PUT_IF_NEWER_SCRIPT``), called with the arguments ``OnlineStoreWrites`` sends, and read back
with :class:`OnlineFeatureReader`. The JVM writer end to end is in ``test_features_job``."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator, Mapping

import orjson
import pytest
import redis

from fraudguard.config import Settings
from fraudguard.errors import StoreError
from fraudguard.features.online_store import (
    PUT_IF_NEWER_SCRIPT,
    OnlineFeatureReader,
    StoredFeatures,
)

pytestmark = pytest.mark.integration

Write = tuple[str, str, int, str, Mapping[str, float]]
"""entity, entity id, ts_ms, txn id, features"""


class ScriptCaller:
    """Calls the script once per batch with the argument layout of ``OnlineStoreWrites``:
    KEYS the entity hashes; ARGV ttl, names prefix, the JSON list of name lists, then ts_ms,
    txn id, name-list index and comma-separated values per key."""

    def __init__(self, client: redis.Redis, reader: OnlineFeatureReader, ttl_s: int = 0) -> None:
        self.script = client.register_script(PUT_IF_NEWER_SCRIPT)
        self.reader = reader
        self.ttl_s = ttl_s

    def __call__(self, *writes: Write) -> int:
        keys: list[str] = []
        lists: dict[tuple[str, ...], int] = {}
        args: list[str | int | bytes] = [self.ttl_s, self.reader.names_prefix, b""]
        for entity, entity_id, ts_ms, txn_id, features in writes:
            keys.append(self.reader.key_for(entity, entity_id))
            index = lists.setdefault(tuple(features), len(lists))
            values = ",".join(repr(float(v)) for v in features.values())
            args += [str(ts_ms), txn_id, index, values]
        args[2] = orjson.dumps([list(names) for names in lists])
        return int(self.script(keys=keys, args=args))


@pytest.fixture
def client(stack_settings: Settings) -> Iterator[redis.Redis]:
    r = stack_settings.redis
    client = redis.Redis(host=r.host, port=r.port, db=r.db)
    yield client
    client.close()


@pytest.fixture
def reader(client: redis.Redis) -> Iterator[OnlineFeatureReader]:
    """A reader under a prefix of the test's own; its keys are deleted afterwards."""
    reader = OnlineFeatureReader(client, key_prefix=f"fg:test:{uuid.uuid4().hex}")
    yield reader
    reader.clear()


@pytest.fixture
def put(client: redis.Redis, reader: OnlineFeatureReader) -> ScriptCaller:
    return ScriptCaller(client, reader)


def card(ts_ms: int, txn_id: str, value: float, card_id: str = "c1") -> Write:
    return ("card", card_id, ts_ms, txn_id, {"amount": value, "count_1h": 1.0})


def amount(reader: OnlineFeatureReader, card_id: str = "c1") -> float | None:
    got = reader.get("card", card_id)
    return None if got is None else got.features["amount"]


def test_an_unknown_key_reads_as_none(reader: OnlineFeatureReader) -> None:
    assert reader.get("card", "never-written") is None


def test_a_newer_write_is_applied_an_older_or_equal_one_ignored(
    put: ScriptCaller, reader: OnlineFeatureReader
) -> None:
    assert put(card(1000, "t1", 10.0)) == 1
    assert put(card(2000, "t2", 20.0)) == 1
    assert reader.get("card", "c1") == StoredFeatures(2000, "t2", {"amount": 20.0, "count_1h": 1.0})
    assert put(card(1000, "t9", 10.0)) == 0  # the greater txn id does not matter: ts comes first
    assert put(card(2000, "t2", 99.0)) == 0  # equal version
    assert amount(reader) == 20.0


def test_same_ts_orders_by_txn_id_as_a_string(
    put: ScriptCaller, reader: OnlineFeatureReader
) -> None:
    put(card(1000, "t5", 5.0))
    assert put(card(1000, "t6", 6.0)) == 1
    assert put(card(1000, "t10", 10.0)) == 0  # "t10" < "t6" as strings
    assert put(card(1000, "t60", 60.0)) == 1  # a string is smaller than its extensions
    assert put(card(1000, "t6", 6.0)) == 0
    assert amount(reader) == 60.0


def test_txn_ids_compare_by_code_point_not_by_locale(
    put: ScriptCaller, reader: OnlineFeatureReader
) -> None:
    # Code point order: "B" < "a" < "é"; a locale-aware collation would put "a" before "B".
    put(card(1000, "B", 1.0))
    assert put(card(1000, "a", 2.0)) == 1
    assert put(card(1000, "é", 3.0)) == 1
    assert put(card(1000, "b", 4.0)) == 0
    assert amount(reader) == 3.0


def test_timestamps_compare_exactly_up_to_2_pow_53(
    put: ScriptCaller, reader: OnlineFeatureReader
) -> None:
    put(card(2**53 - 1, "t1", 1.0))
    assert put(card(2**53 - 2, "t2", 2.0)) == 0
    assert reader.get("card", "c1") == StoredFeatures(
        2**53 - 1, "t1", {"amount": 1.0, "count_1h": 1.0}
    )


def test_one_call_counts_only_the_applied_writes(put: ScriptCaller) -> None:
    assert put(*(card(2000, "t2", 1.0, c) for c in ("c1", "c2", "c3"))) == 3
    older, equal = card(1000, "t1", 2.0, "c1"), card(2000, "t2", 2.0, "c2")
    newer, new_key = card(3000, "t3", 2.0, "c3"), card(1000, "t1", 2.0, "c4")
    assert put(older, equal, newer, new_key) == 2


def test_an_applied_write_replaces_all_features(
    put: ScriptCaller, reader: OnlineFeatureReader
) -> None:
    put(("card", "c1", 1000, "t1", {"a": 1.0, "b": 2.0}))
    put(("card", "c1", 2000, "t2", {"a": 3.0}))
    assert reader.get("card", "c1") == StoredFeatures(2000, "t2", {"a": 3.0})
    put(("card", "c1", 3000, "t3", {}))
    assert reader.get("card", "c1") == StoredFeatures(3000, "t3", {})


def test_entities_and_ids_are_separate_keys(put: ScriptCaller, reader: OnlineFeatureReader) -> None:
    assert put(("card", "x1", 1000, "t1", {"a": 1.0}), ("merchant", "x1", 1000, "t1", {"a": 2.0}),
               ("card", "x1:y", 1000, "t1", {"a": 3.0})) == 3  # fmt: skip
    got = [reader.get(e, i) for e, i in [("card", "x1"), ("merchant", "x1"), ("card", "x1:y")]]
    assert [g.features["a"] if g else None for g in got] == [1.0, 2.0, 3.0]


def test_values_and_names_round_trip_exactly(
    put: ScriptCaller, reader: OnlineFeatureReader
) -> None:
    rng = random.Random(5)
    values = [rng.uniform(-1e6, 1e6) for _ in range(40)] + [
        0.1, 1e-05, 1e22, 5e-324, -0.0, 1.7976931348623157e308, math.inf, -math.inf, 2.0**60,
    ]  # fmt: skip
    features = {f"f{i}": v for i, v in enumerate(values)}
    features |= {'quote"d': 1.0, "back\\slash": 2.0, "new\nline": 3.0, "é €": 4.0, "[1,2]": 5.0}
    put(("card", "c-exact", 1000, "t1", features))
    got = reader.get("card", "c-exact")
    assert got is not None and list(got.features) == list(features)
    for name, value in features.items():
        assert repr(got.features[name]) == repr(value), name
    assert math.copysign(1.0, got.features["f44"]) == -1.0  # -0.0 keeps its sign


def test_a_replay_never_moves_values_backwards(
    put: ScriptCaller, reader: OnlineFeatureReader
) -> None:
    events = [card(1000 + 10 * i, f"t{i:04d}", float(i)) for i in range(50)]
    for start in range(0, 50, 7):
        put(*events[start : start + 7])
    newest = StoredFeatures(1490, "t0049", {"amount": 49.0, "count_1h": 1.0})
    assert reader.get("card", "c1") == newest
    # A restart replays the whole stream, then an older suffix, in other batch boundaries.
    replay = events + events[20:]
    for start in range(0, len(replay), 3):
        assert put(*replay[start : start + 3]) == 0
        assert reader.get("card", "c1") == newest


def test_key_layout(put: ScriptCaller, reader: OnlineFeatureReader, client: redis.Redis) -> None:
    put(("card", "c000042", 1795428000512, "t0000001", {"amount_sum_1h": 0.1, "n": 2.0}))
    held = client.hgetall(reader.key_for("card", "c000042"))
    names_id = held.pop(b"_names")
    assert held == {b"_ts": b"1795428000512", b"_txn": b"t0000001", b"_values": b"0.1,2.0"}
    listed = client.get(f"{reader.names_prefix}{names_id.decode()}")
    assert orjson.loads(listed) == ["amount_sum_1h", "n"]


def test_a_hash_of_the_older_layout_is_named_on_read_and_replaced_by_the_next_write(
    put: ScriptCaller, reader: OnlineFeatureReader, client: redis.Redis
) -> None:
    key = reader.key_for("card", "c1")
    client.hset(key, mapping={"_ts": "1000", "_txn": "t1", "stale_feature": "7.0"})
    with pytest.raises(StoreError, match="older version"):
        reader.get("card", "c1")
    put(card(2000, "t2", 2.5))
    assert b"stale_feature" not in client.hgetall(key)
    assert amount(reader) == 2.5


def test_ttl_is_set_and_refreshed_only_by_applied_writes(
    client: redis.Redis, reader: OnlineFeatureReader
) -> None:
    put = ScriptCaller(client, reader, ttl_s=3600)
    key = reader.key_for("card", "c1")
    put(card(1000, "t1", 1.0))
    assert 3590 <= client.ttl(key) <= 3600
    client.expire(key, 100)
    put(card(500, "t0", 0.5))  # ignored: TTL untouched
    assert client.ttl(key) <= 100
    put(card(2000, "t2", 2.0))  # applied: TTL refreshed
    assert 3590 <= client.ttl(key) <= 3600


def test_without_ttl_keys_persist(
    put: ScriptCaller, reader: OnlineFeatureReader, client: redis.Redis
) -> None:
    put(card(1000, "t1", 1.0))
    assert client.ttl(reader.key_for("card", "c1")) == -1


def test_clear_deletes_only_its_own_prefix(client: redis.Redis) -> None:
    mine = OnlineFeatureReader(client, key_prefix=f"fg:test:{uuid.uuid4().hex}")
    other = OnlineFeatureReader(client, key_prefix=f"fg:test:{uuid.uuid4().hex}")
    for reader in (mine, other):
        put = ScriptCaller(client, reader)
        writes = [card(1000, "t1", 1.0, f"c{i}") for i in range(1500)]  # over one deletion batch
        for start in range(0, len(writes), 500):
            put(*writes[start : start + 500])
    assert mine.clear() == 1501  # the hashes and their one list of names
    assert mine.get("card", "c7") is None and other.get("card", "c7") is not None
    assert other.clear() == 1501
