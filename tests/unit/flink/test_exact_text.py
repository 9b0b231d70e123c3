"""The online store's and the decision record's number text (``io.fraudguard.flink.ExactText``)
reads back exactly."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import orjson

from fraudguard.config import Settings
from fraudguard.features.jvm import run_kernel_main


def test_every_kind_of_feature_value_reads_back_as_the_same_double(tmp_path: Path) -> None:
    sample = tmp_path / "json-sample.txt"
    got = run_kernel_main(
        Settings(), "io.fraudguard.tools.ExactTextCheck", ["11", "200000", str(sample)]
    )
    assert got["cases"] == 200_000
    assert got["mismatches"] == 0, got
    assert got["json_mismatches"] == 0, got
    # counts, cents and six-place ratios (most of the cases) skip Double.toString
    assert got["fast"] > 100_000, got

    # The JSON text as the decision's readers see it: orjson gives back the same double, as a
    # float (never an int), and null exactly for NaN and the infinities, as orjson writes them.
    lines = sample.read_text().splitlines()
    assert len(lines) == 200_000
    values = [struct.unpack("<d", int(bits, 16).to_bytes(8, "little"))[0] for bits, _ in (
        line.split(" ") for line in lines)]  # fmt: skip
    texts = [line.split(" ")[1] for line in lines]
    read = orjson.loads("[" + ",".join(texts) + "]")
    wrong = []
    for value, text, back in zip(values, texts, read, strict=True):
        if not math.isfinite(value):
            ok = back is None and orjson.dumps(value) == b"null"
        else:
            ok = type(back) is float and struct.pack("<d", back) == struct.pack("<d", value)
        if not ok:
            wrong.append((value, text, back))
    assert wrong == []
