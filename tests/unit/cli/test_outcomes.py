"""`fraudguard outcomes`: the file path as `outcomes SOURCE` and `outcomes file SOURCE`, beside
the service's subcommands (no services needed)."""

from __future__ import annotations

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from fraudguard.cli.outcomes import outcomes
from fraudguard.config import Settings


def _decisions(folder):
    path = folder / "decisions.parquet"
    table = pa.table({
        "txn_id": ["t1", "t2", "t3"], "card_id": ["c1", "c2", "c3"],
        "decision": ["approve", "block", "review"], "explored": [False, False, False],
        "propensity": [1.0, 0.99, 0.99], "ts_ms": [0, 0, 0], "amount": [1.0, 2.0, 3.0],
    })  # fmt: skip
    pq.write_table(table, path)
    truth = folder / "truth.jsonl"
    truth.write_bytes(b"".join(orjson.dumps({"txn_id": t, "label": "fraud"}) + b"\n"
                               for t in ("t1", "t2")))  # fmt: skip
    return path, truth


def test_outcomes_source_is_short_for_outcomes_file(tmp_path):
    decisions, truth = _decisions(tmp_path)
    written = []
    for name, args in (("short", []), ("long", ["file"])):
        out = tmp_path / f"{name}.jsonl"
        result = CliRunner().invoke(
            outcomes, [*args, str(decisions), "--truth", str(truth), "--out", str(out)],
            obj=Settings(home=tmp_path),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        written.append([orjson.loads(line) for line in out.read_bytes().splitlines()])
    assert written[0] == written[1]
    assert {(x["txn_id"], x["source"]) for x in written[0]} == {
        ("t1", "chargeback"),
        ("t3", "investigation"),
    }


def test_status_without_a_service(tmp_path):
    result = CliRunner().invoke(outcomes, ["status"], obj=Settings(home=tmp_path))
    assert result.exit_code == 0 and "not running" in result.output
