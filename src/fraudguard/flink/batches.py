"""Records packed into batches across the Java/Python bridge, and what travels inside them.

PyFlink pays about 50 µs per record to call a Python operator, more than the Python work of a
decision; a Java operator (``io.fraudguard.flink.MicroBatch``) therefore packs records into one
(each behind its length, a big-endian int32), and ``io.fraudguard.flink.Unbatch`` unpacks what
comes back. The formats here mirror those Java classes.

>>> batch = pack_batch([b"ab", b"", b"xyz"])
>>> batch
b'\\x00\\x00\\x00\\x02ab\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x03xyz'
>>> unpack_batch(batch)
[b'ab', b'', b'xyz']
>>> import struct
>>> json = b'{"a":1.5,"b":-2.0}'
>>> packed = (struct.pack("<i2d?dB", 2, 1.5, -2.0, True, 0.25, 2) + b"m1"
...           + struct.pack("<dB", 0.5, 2) + b"m2"
...           + struct.pack("<i", len(json)) + json + b'{"txn_id": "t1"}')
>>> features, late, scored, shadow, txn_json = unpack_features(packed, {"a": 0, "b": 1})
>>> dict(features), features.json, late, scored, shadow, txn_json
({'a': 1.5, 'b': -2.0}, b'{"a":1.5,"b":-2.0}', True, (0.25, 'm1'), (0.5, 'm2'), b'{"txn_id": "t1"}')
>>> nan = float("nan")
>>> unpack_features(struct.pack("<i?dBdBi", 0, False, nan, 0, nan, 0, 2) + b"{}{}", {})[1:]
(False, None, None, b'{}')
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping

from fraudguard.wire.decisions import WrittenFeatures

_SCORE = struct.Struct("<dB")
Scored = tuple[float, str] | None
"""A model's score and its version, or None when no model scored."""


def pack_batch(items: list[bytes]) -> bytes:
    return b"".join(len(item).to_bytes(4, "big") + item for item in items)


def unpack_batch(batch: bytes) -> list[bytes]:
    items, at, end = [], 0, len(batch)
    while at < end:
        length = int.from_bytes(batch[at : at + 4], "big")
        items.append(batch[at + 4 : at + 4 + length])
        at += 4 + length
    return items


def unpack_features(
    packed: bytes, index: Mapping[str, int]
) -> tuple[WrittenFeatures, bool, Scored, Scored, bytes]:
    """Features (``index``: each name's position, in order), late flag, base score with its
    model version (None: no model scored it), the shadow challenger's score and version (None:
    no challenger) and validated transaction JSON, as ``PackForDecision`` wrote them. A
    feature's value is read only when something asks for it; their JSON, written by the JVM,
    goes into the decision record as it is."""
    count = int.from_bytes(packed[:4], "little")
    if count != len(index):
        raise ValueError(f"{count} feature values packed for {len(index)} names")
    end = 4 + 8 * count
    scored, at = _scored(packed, end + 1)
    shadow, at = _scored(packed, at)
    json_end = at + 4 + int.from_bytes(packed[at : at + 4], "little")
    features = WrittenFeatures(index, packed, 4, packed[at + 4 : json_end])
    return features, packed[end] == 1, scored, shadow, packed[json_end:]


def _scored(packed: bytes, at: int) -> tuple[Scored, int]:
    """A score and its model version at ``at`` (NaN: none), and where the next field starts."""
    score, length = _SCORE.unpack_from(packed, at)
    at += _SCORE.size
    scored = None if math.isnan(score) else (score, packed[at : at + length].decode())
    return scored, at + length
