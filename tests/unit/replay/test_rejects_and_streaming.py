"""The reject log counts per file and fails over the share; conversion streams its input."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import pytest

from fraudguard.replay import convert as convert_module
from fraudguard.replay.convert import convert_file
from fraudguard.replay.mapping_file import load_mapping
from fraudguard.replay.rejects import RejectLog, RowRefused, TooManyRejects
from fraudguard.replay.values import as_text, parse_instant


def test_each_file_is_held_to_the_share_on_its_own(tmp_path: Path) -> None:
    error = RowRefused("unknown_transaction", "txn_id", "no converted row has this id")
    with RejectLog(tmp_path / "r.jsonl", "data.csv", max_share=0.1) as log:
        for _ in range(100):
            log.accept()
        log.accept("labels.csv")
        log.refuse(1, error, {"id": "x"}, "labels.csv", counted=True)
    assert (log.rows["data.csv"], log.rows["labels.csv"], log.refused["labels.csv"]) == (100, 1, 1)
    with pytest.raises(TooManyRejects, match="1 of 1 rows of labels.csv"):
        log.check()


def test_a_run_without_refusals_leaves_an_empty_rejects_file(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text("a stale reject\n")
    with RejectLog(path, "data.csv") as log:
        log.accept()
    log.check()
    assert path.read_bytes() == b"" and log.summary() == "no row refused"


def test_a_share_outside_zero_to_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        RejectLog(tmp_path / "r.jsonl", "data.csv", max_share=5)


@pytest.mark.parametrize(
    ("value", "text"),
    [(float("nan"), None), (2.0**60, "1.152921504606847e+18"), (True, "true"), ("", None)],
)
def test_cells_as_text(value: object, text: str | None) -> None:
    assert as_text(value) == text


def test_a_list_cell_is_not_text() -> None:
    with pytest.raises(ValueError, match="not a single value"):
        as_text([1])


def test_an_instant_from_a_parquet_date_or_naive_datetime() -> None:
    from datetime import date, datetime

    assert parse_instant(date(2018, 4, 2), "UTC") == 1522627200000
    assert parse_instant(datetime(2018, 4, 2, 2), "Europe/Brussels") == 1522627200000
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_instant(datetime(2018, 4, 2))


def test_conversion_memory_does_not_grow_with_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path, mappings_dir: Path
) -> None:
    monkeypatch.syspath_prepend(str(data_dir))
    from make_fixtures import PAYSIM_COLUMNS, paysim_rows, write

    monkeypatch.setattr(convert_module, "BATCH_ROWS", 500)
    mapping = load_mapping(mappings_dir / "paysim.yaml")
    write(tmp_path / "p.csv", PAYSIM_COLUMNS, paysim_rows(random.Random(3), 8_000))
    convert_file(data_dir / "paysim.csv", mapping, tmp_path / "warm.jsonl")  # imports, caches
    tracemalloc.start()
    try:
        report = convert_file(tmp_path / "p.csv", mapping, tmp_path / "o.parquet")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.transactions > 7_900
    # The rows alone, held as dicts, take about 8 MB; a batch and the labels, well under 1 MB.
    assert peak < 3_000_000, peak
