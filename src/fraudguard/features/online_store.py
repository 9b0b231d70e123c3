"""The online feature store: the newest features per card and per merchant, never moving back.

Every write carries the event's ``ts_ms`` and ``txn_id``. A write is applied only when
``(ts_ms, txn_id)`` is greater than the stored one (``ts_ms`` first, then ``txn_id`` compared
as a string, by code point); equal or older writes are ignored. Replaying a stream after a
restart therefore never moves a value backwards. An applied write replaces the entity's
features as a whole, so what is stored is always exactly the newest write.

Writes are buffered and sent by :meth:`flush`; :meth:`get` sees only flushed writes.

>>> store = InMemoryFeatureStore()
>>> store.put("card", "c1", ts_ms=2_000, txn_id="t2", features={"amount_sum_1h": 80.0})
>>> store.put("card", "c1", ts_ms=1_000, txn_id="t1", features={"amount_sum_1h": 30.0})
>>> store.flush()  # both writes were for one key: only the newest is sent
1
>>> store.put("card", "c1", ts_ms=1_000, txn_id="t1", features={"amount_sum_1h": 30.0})
>>> store.flush()  # a replay of an older event is ignored
0
>>> store.get("card", "c1")
StoredFeatures(ts_ms=2000, txn_id='t2', features={'amount_sum_1h': 80.0})
>>> store.get("card", "c2") is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol, cast, runtime_checkable

import orjson
import redis

from fraudguard.config import Settings
from fraudguard.errors import StoreError

DEFAULT_TTL_S = 35 * 86400
"""Entities that stop transacting leave the store this long after their last write."""
TS_FIELD = "_ts"
TXN_FIELD = "_txn"
NAMES_FIELD = "_names"
VALUES_FIELD = "_values"
MAX_TS_MS = 2**53
"""Timestamps are compared as Lua numbers (doubles) in Redis, exact below 2**53."""

# The job's writer (io.fraudguard.flink.OnlineStoreWrites) runs this same script, handed over
# from here. KEYS: the entity hashes of one flush. ARGV[1]: ttl_s (0 = no TTL); ARGV[2]: the
# prefix of the names keys; ARGV[3]: the lists of feature names the writes use, as one JSON
# list; then four arguments per key: ts_ms, txn_id, index into the lists, "value,value,...".
# The values travel as one text each, written by Python or Java: cjson would turn numbers into
# Lua doubles, which Redis then prints with 14 digits. Plain arguments rather than one JSON
# document of every write: decoding it was a third of the script's time. One script call per
# flush, not per key.
# txn ids are compared byte by byte: Lua's `<` on strings uses strcoll, and Redis sets
# LC_COLLATE from its environment, so `<` could disagree with Python's code-point order.
# Bytewise order of UTF-8 equals code-point order.
#
# Layout: each entity's hash holds four fields: _ts, _txn, _names (the id of its list of
# feature names, a JSON list kept once at {prefix}:names:{id}) and _values (the values in that
# order, as text). One field per feature cost Redis about 100 us a write (40 features: the Lua loop
# splitting the values, a 40-field HSET and its append-only-file record); four fields cost a
# fifth of that (bench/online_store.py), and the job's Redis was using a third of a core.
PUT_IF_NEWER_SCRIPT = """
local function less(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local ttl = tonumber(ARGV[1])
local names = cjson.decode(ARGV[3])
local ids = {}
for i = 1, #names do
  local listed = cjson.encode(names[i]) -- names may hold any text, commas too
  ids[i] = string.sub(redis.sha1hex(listed), 1, 16)
  redis.call('SET', ARGV[2] .. ids[i], listed)
end
local applied = 0
for k = 1, #KEYS do
  local key, a = KEYS[k], 4 * k
  local ts, txn = tonumber(ARGV[a]), ARGV[a + 1]
  local held = redis.call('HMGET', key, '_ts', '_txn', '_names')
  local newer = true
  if held[1] then
    local held_ts = tonumber(held[1])
    if ts < held_ts or (ts == held_ts and not less(held[2] or '', txn)) then
      newer = false
    end
  end
  if newer then
    if held[1] and not held[3] then
      redis.call('DEL', key) -- a hash of the older layout, one field per feature
    end
    redis.call('HSET', key, '_ts', ARGV[a], '_txn', txn, '_names', ids[tonumber(ARGV[a + 2]) + 1],
      '_values', ARGV[a + 3])
    if ttl > 0 then
      redis.call('EXPIRE', key, ttl)
    end
    applied = applied + 1
  end
end
return applied
"""


@dataclass(frozen=True, slots=True)
class StoredFeatures:
    """One entity's features and the version (``ts_ms``, ``txn_id``) of the write that set them."""

    ts_ms: int
    txn_id: str
    features: dict[str, float]

    @property
    def version(self) -> tuple[int, str]:
        """What writes are ordered by: event time first, then transaction id."""
        return (self.ts_ms, self.txn_id)


@runtime_checkable
class FeatureStore(Protocol):
    """Where the job writes the newest features per entity (``"card"``, ``"merchant"``)."""

    def put(
        self, entity: str, entity_id: str, ts_ms: int, txn_id: str, features: Mapping[str, float]
    ) -> None: ...

    def flush(self) -> int: ...

    def get(self, entity: str, entity_id: str) -> StoredFeatures | None: ...


class PendingWrite(NamedTuple):
    """A buffered write: its version, and its features as names (shared) and values."""

    ts_ms: int
    txn_id: str
    names: tuple[str, ...]
    values: list[float]

    @property
    def version(self) -> tuple[int, str]:
        return (self.ts_ms, self.txn_id)


def _check_version(ts_ms: int, txn_id: str) -> None:
    if not isinstance(ts_ms, int) or isinstance(ts_ms, bool) or not 0 <= ts_ms < MAX_TS_MS:
        raise ValueError(f"ts_ms must be an int in [0, 2**53), got {ts_ms!r}")
    if not isinstance(txn_id, str) or not txn_id:
        raise ValueError(f"txn_id must be a non-empty string, got {txn_id!r}")


def _check_names(names: tuple[str, ...]) -> None:
    for name in names:
        if not isinstance(name, str) or not name or name.startswith("_"):
            raise ValueError(f"feature names are non-empty and never start with '_': {name!r}")


def _check_entity(entity: str, entity_id: str) -> None:
    if not entity or ":" in entity:
        raise ValueError(f"entity must be non-empty and without ':', got {entity!r}")
    if not isinstance(entity_id, str) or not entity_id:
        raise ValueError(f"entity_id must be a non-empty string, got {entity_id!r}")


class _BufferedStore:
    """The write buffer both stores share: per key, only the newest pending write is kept."""

    def __init__(self, flush_every: int) -> None:
        if flush_every < 1:
            raise ValueError(f"flush_every must be >= 1, got {flush_every}")
        self.flush_every = flush_every
        self._pending: dict[tuple[str, str], PendingWrite] = {}
        self._checked: set[tuple[str, ...]] = set()

    def put(
        self, entity: str, entity_id: str, ts_ms: int, txn_id: str, features: Mapping[str, float]
    ) -> None:
        """Buffer a write (the features are copied); flush once ``flush_every`` keys wait."""
        self.put_values(
            entity, entity_id, ts_ms, txn_id, tuple(features), [float(v) for v in features.values()]
        )

    def put_values(
        self,
        entity: str,
        entity_id: str,
        ts_ms: int,
        txn_id: str,
        names: tuple[str, ...],
        values: list[float],
    ) -> None:
        """:meth:`put` for a writer that sends the same names every time (the job): the names
        are checked once, and ``values`` (floats, in the order of ``names``) is kept as given."""
        _check_entity(entity, entity_id)
        _check_version(ts_ms, txn_id)
        if names not in self._checked:
            _check_names(names)
            self._checked.add(names)
        if len(values) != len(names):
            raise ValueError(f"{len(values)} values for {len(names)} feature names")
        key = (entity, entity_id)
        held = self._pending.get(key)
        if held is None or (ts_ms, txn_id) > held.version:
            self._pending[key] = PendingWrite(ts_ms, txn_id, names, values)
        if len(self._pending) >= self.flush_every:
            self.flush()

    def flush(self) -> int:
        """Send the buffered writes; the number applied (newer than what was stored).

        If sending fails the buffer is kept, and flushing again is safe: resent writes that had
        already landed are equal to the stored version and ignored.
        """
        if not self._pending:
            return 0
        applied = self._apply(self._pending)
        self._pending = {}
        return applied

    def take(self) -> dict[tuple[str, str], PendingWrite]:
        """Detach the buffered writes, to :meth:`send` them elsewhere (another thread)."""
        writes, self._pending = self._pending, {}
        return writes

    def send(self, writes: Mapping[tuple[str, str], PendingWrite]) -> int:
        """Apply writes detached by :meth:`take`; the number applied."""
        return self._apply(writes) if writes else 0

    def _apply(self, writes: Mapping[tuple[str, str], PendingWrite]) -> int:
        raise NotImplementedError

    def __len__(self) -> int:
        """Keys waiting in the buffer."""
        return len(self._pending)


class InMemoryFeatureStore(_BufferedStore):
    """The same semantics as :class:`OnlineFeatureStore` in a dict, for tests and examples."""

    def __init__(self, flush_every: int = 500) -> None:
        super().__init__(flush_every)
        self._data: dict[tuple[str, str], StoredFeatures] = {}

    def _apply(self, writes: Mapping[tuple[str, str], PendingWrite]) -> int:
        applied = 0
        for key, write in writes.items():
            held = self._data.get(key)
            if held is None or write.version > held.version:
                features = dict(zip(write.names, write.values, strict=True))
                self._data[key] = StoredFeatures(write.ts_ms, write.txn_id, features)
                applied += 1
        return applied

    def get(self, entity: str, entity_id: str) -> StoredFeatures | None:
        """The newest flushed features of the entity, or None."""
        _check_entity(entity, entity_id)
        held = self._data.get((entity, entity_id))
        if held is None:
            return None
        return StoredFeatures(held.ts_ms, held.txn_id, dict(held.features))


class OnlineFeatureStore(_BufferedStore):
    """Features in Redis: one hash per entity at ``{key_prefix}:{entity}:{entity_id}``.

    The hash holds ``_ts`` (epoch ms), ``_txn`` and one field per feature (``repr`` of the
    float). One Lua script compares and writes atomically; :meth:`flush` sends all buffered
    writes in one pipeline. ``ttl_s`` (None: keep forever) is reset by every applied write, so
    entities that stop transacting expire.
    """

    def __init__(
        self,
        client: redis.Redis,
        key_prefix: str = "fg:features",
        flush_every: int = 500,
        ttl_s: int | None = DEFAULT_TTL_S,
    ) -> None:
        super().__init__(flush_every)
        if ttl_s is not None and ttl_s < 1:
            raise ValueError(f"ttl_s must be >= 1 or None, got {ttl_s}")
        self.client = client
        self.key_prefix = key_prefix
        self.ttl_s = ttl_s
        self._script = client.register_script(PUT_IF_NEWER_SCRIPT)
        self._names: dict[bytes, list[str]] = {}  # a names list never changes under its id

    @classmethod
    def from_settings(cls, settings: Settings) -> OnlineFeatureStore:
        """A store on the Redis of ``settings``, with the default prefix, buffer and TTL."""
        r = settings.redis
        client = redis.Redis(
            host=r.host, port=r.port, db=r.db, socket_timeout=10, socket_connect_timeout=5
        )
        return cls(client, key_prefix=r.feature_prefix)

    def clear(self) -> int:
        """Delete every key under this store's prefix (a finished test or benchmark run's own
        prefix); the number deleted."""
        deleted, batch = 0, []
        for key in self.client.scan_iter(f"{self.key_prefix}:*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                deleted += int(cast(int, self.client.unlink(*batch)))
                batch = []
        if batch:
            deleted += int(cast(int, self.client.unlink(*batch)))
        return deleted

    def key_for(self, entity: str, entity_id: str) -> str:
        """The Redis key of one entity's hash."""
        _check_entity(entity, entity_id)
        return f"{self.key_prefix}:{entity}:{entity_id}"

    def _apply(self, writes: Mapping[tuple[str, str], PendingWrite]) -> int:
        if not writes:
            return 0
        keys = [self.key_for(entity, entity_id) for entity, entity_id in writes]
        names: dict[tuple[str, ...], int] = {}
        args: list[str | int | bytes] = [self.ttl_s or 0, self.names_prefix, b""]
        for write in writes.values():
            args += [
                str(write.ts_ms),
                write.txn_id,
                names.setdefault(write.names, len(names)),
                _values_text(write.values),
            ]
        args[2] = orjson.dumps(list(names))
        return int(self._script(keys=keys, args=args))

    @property
    def names_prefix(self) -> str:
        """Where the lists of feature names live, one key per list: ``{prefix}:names:{id}``."""
        return f"{self.key_prefix}:names:"

    def get(self, entity: str, entity_id: str) -> StoredFeatures | None:
        """The newest flushed features of the entity, or None."""
        # redis-py types every reply as "maybe awaitable"; this client is synchronous.
        ts, txn, names_id, values = cast(
            "list[bytes | None]",
            self.client.hmget(
                self.key_for(entity, entity_id), [TS_FIELD, TXN_FIELD, NAMES_FIELD, VALUES_FIELD]
            ),
        )
        if ts is None or txn is None:
            return None
        if names_id is None or values is None:
            raise StoreError(
                f"{self.key_for(entity, entity_id)} is in the layout of an older version "
                "(one field per feature); its next write replaces it"
            )
        names = self._names.get(names_id)
        if names is None:
            listed = cast("bytes | None", self.client.get(self.names_prefix + _text(names_id)))
            if listed is None:
                raise StoreError(f"no list of feature names {_text(names_id)!r} in the store")
            # cjson writes an empty list as {}
            names = self._names[names_id] = list(orjson.loads(listed))
        floats = [float(v) for v in _text(values).split(",")] if values else []
        return StoredFeatures(int(ts), _text(txn), dict(zip(names, floats, strict=True)))


def _values_text(values: list[float]) -> str:
    """Floats as exact text, comma-separated: orjson's shortest round-trip form, or ``repr``
    where orjson has none (it writes NaN and infinities as null).

    >>> _values_text([1.5, 0.1, 1e-05, 3.0])
    '1.5,0.1,0.00001,3.0'
    >>> _values_text([float("nan"), 2.0])
    'nan,2.0'
    """
    text = orjson.dumps(values)[1:-1].decode()
    if "null" in text or not text and values:
        return ",".join(repr(float(v)) for v in values)
    return text


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
