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
>>> packed = struct.pack("<i2d", 2, 1.5, -2.0) + b"\\x01" + b'{"txn_id": "t1"}'
>>> unpack_features(packed)
([1.5, -2.0], True, b'{"txn_id": "t1"}')
"""

from __future__ import annotations

import numpy as np


def pack_batch(items: list[bytes]) -> bytes:
    return b"".join(len(item).to_bytes(4, "big") + item for item in items)


def unpack_batch(batch: bytes) -> list[bytes]:
    items, at, end = [], 0, len(batch)
    while at < end:
        length = int.from_bytes(batch[at : at + 4], "big")
        items.append(batch[at + 4 : at + 4 + length])
        at += 4 + length
    return items


def unpack_features(packed: bytes) -> tuple[list[float], bool, bytes]:
    """Features, late flag and validated transaction JSON, as ``PackForDecision`` wrote them."""
    count = int.from_bytes(packed[:4], "little")
    end = 4 + 8 * count
    values = np.frombuffer(packed, dtype="<f8", count=count, offset=4).tolist()
    return values, packed[end] == 1, packed[end + 1 :]
