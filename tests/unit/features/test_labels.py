"""Which labels feed the label-fed features: the contract's cases, as the job reads them too."""

from __future__ import annotations

import json
from pathlib import Path

from fraudguard.errors import InvalidLabel
from fraudguard.features.labels import FraudLabel, FraudLabels
from fraudguard.wire.labels import label_object

CASES = Path(__file__).parents[3] / "contracts" / "label-cases.json"


def test_every_case_of_the_contract_reads_as_the_job_reads_it() -> None:
    cases = json.loads(CASES.read_text())["cases"]
    assert len(cases) >= 10
    for case in cases:
        try:
            read = FraudLabels.of([label_object(case["record"].encode(), "bad_label")])
        except InvalidLabel as exc:
            assert case.get("unused") == exc.reason, case["record"]
            continue
        if "feeds" in case:
            assert read.labels == [FraudLabel(**case["feeds"])], case["record"]
        else:
            assert read.labels == [], case["record"]
            assert dict(read.unused) == {case["unused"]: 1}, case["record"]


def test_a_labels_file_is_read_with_its_unused_labels_counted(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    rows = [json.loads(c["record"]) for c in json.loads(CASES.read_text())["cases"][:6]]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    read = FraudLabels.from_file(path)
    assert [label.txn_id for label in read.labels] == ["t1", "t2"]
    assert dict(read.unused) == {"legit": 1, "no_entities": 3}
