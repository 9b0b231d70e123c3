"""The online feature store: the newest features per card and per merchant, never moving back.

The job's JVM writes it (``io.fraudguard.flink.OnlineStoreWrites``) with the Lua script below,
which is handed over from here so the store's rules are written once. Every write carries the
event's ``ts_ms`` and ``txn_id``, and is applied only when ``(ts_ms, txn_id)`` is greater than
the stored one (``ts_ms`` first, then ``txn_id`` compared by code point); equal or older writes
are ignored. Replaying a stream after a restart therefore never moves a value backwards. An
applied write replaces the entity's features as a whole.

This module reads it: :class:`OnlineFeatureReader` gives the newest features of an entity, as
the panel's case page and the tests need them.

>>> OnlineFeatureReader.from_settings(Settings()).key_for("card", "c1")
'fg:features:card:c1'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

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

# The job's writer (io.fraudguard.flink.OnlineStoreWrites) runs this same script, handed over
# from here. KEYS: the entity hashes of one flush. ARGV[1]: ttl_s (0 = no TTL); ARGV[2]: the
# prefix of the names keys; ARGV[3]: the lists of feature names the writes use, as one JSON
# list; then four arguments per key: ts_ms, txn_id, index into the lists, "value,value,...".
# The values travel as one text each, written by Python or Java: cjson would turn numbers into
# Lua doubles, which Redis then prints with 14 digits. Plain arguments rather than one JSON
# document of every write: decoding it was a third of the script's time. One script call per
# flush, not per key. Timestamps are compared as Lua numbers (doubles), exact below 2**53.
# txn ids are compared byte by byte: Lua's `<` on strings uses strcoll, and Redis sets
# LC_COLLATE from its environment, so `<` could disagree with Python's code-point order.
# Bytewise order of UTF-8 equals code-point order.
#
# Layout: each entity's hash holds four fields: _ts, _txn, _names (the id of its list of
# feature names, a JSON list kept once at {prefix}:names:{id}) and _values (the values in that
# order, as text). One field per feature cost Redis about 100 us a write (40 features: the Lua loop
# splitting the values, a 40-field HSET and its append-only-file record); four fields cost a
# fifth of that (measured with redis-benchmark-style loops before the JVM writer took over),
# and the job's Redis was using a third of a core.
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


def _check_entity(entity: str, entity_id: str) -> None:
    if not entity or ":" in entity:
        raise ValueError(f"entity must be non-empty and without ':', got {entity!r}")
    if not isinstance(entity_id, str) or not entity_id:
        raise ValueError(f"entity_id must be a non-empty string, got {entity_id!r}")


class OnlineFeatureReader:
    """Reads the store in Redis: one hash per entity at ``{key_prefix}:{entity}:{entity_id}``,
    holding ``_ts`` (epoch ms), ``_txn``, ``_names`` (the id of its list of feature names) and
    ``_values`` (the values in that order, as exact text)."""

    def __init__(self, client: redis.Redis, key_prefix: str = "fg:features") -> None:
        self.client = client
        self.key_prefix = key_prefix
        self._names: dict[bytes, list[str]] = {}  # a names list never changes under its id

    @classmethod
    def from_settings(cls, settings: Settings) -> OnlineFeatureReader:
        """A reader of the Redis of ``settings``, under its feature prefix."""
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

    @property
    def names_prefix(self) -> str:
        """Where the lists of feature names live, one key per list: ``{prefix}:names:{id}``."""
        return f"{self.key_prefix}:names:"

    def get(self, entity: str, entity_id: str) -> StoredFeatures | None:
        """The newest features of the entity, or None."""
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


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
