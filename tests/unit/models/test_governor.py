"""The automatic lifecycle on constructed decision logs: the promotion gate lets a challenger
through only when it beats the champion on the unbiased sample with a similar score
distribution and cost; a new champion whose rates leave their band is rolled back; the kill
switch stops both; each decision comes with its reasons."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraudguard.config import GateSettings
from fraudguard.decision import ThresholdTiers
from fraudguard.features import FEATURE_SET_VERSION
from fraudguard.models import ModelMetadata, ModelRegistry
from fraudguard.models.gates import ModelComparison, promotion_verdict
from fraudguard.models.governor import DecisionLog, govern
from fraudguard.models.registry import TREES_FILE

FS = FEATURE_SET_VERSION
TIERS = ThresholdTiers("t", review=0.5, block=0.8)
GATES = GateSettings(min_decisions=500, min_explored_labelled=30)
HOUR = 3_600_000


def trees(nodes: int) -> bytes:
    tree = {"left": [-1] * nodes, "right": [-1] * nodes, "feature": [0] * nodes,
            "threshold": [0.0] * nodes, "default_left": [0] * nodes}  # fmt: skip
    return orjson.dumps({"format": "fraudguard-trees-1", "base_margin": 0.0, "num_feature": 1,
                         "trees": [tree]})  # fmt: skip


def registry(tmp_path: Path, challenger_nodes: int = 100) -> ModelRegistry:
    reg = ModelRegistry(tmp_path / "models")
    for version, nodes in (("champ", 100), ("chall", challenger_nodes)):
        meta = ModelMetadata(version=version, created_at="2026-12-04T00:00:00Z",
                             framework="xgboost", feature_set_version=FS, feature_names=["a"],
                             scale_pos_weight=1.0, code_version="t")  # fmt: skip
        reg.register(b"m", meta, attach=lambda d, n=nodes: (d / TREES_FILE).write_bytes(trees(n)))
    reg.promote("champ", FS)
    reg.set_challenger("chall", FS)
    return reg


def log(tmp_path: Path, n: int, challenger_skill: float, shift: float = 0.0,
        start_ms: int = 0, version: str = "champ", shadow: str | None = "chall",
        block_share: float | None = None) -> tuple[Path, dict]:  # fmt: skip
    """Decisions whose fraud the champion ranks with some skill and the challenger with
    ``challenger_skill`` (0: random, 1: perfect), its scores distributed as the champion's
    (then moved by ``shift``); a fifth of them explored at propensity 0.5."""
    rng = np.random.default_rng(7)
    fraud = rng.random(n) < 0.05
    champion = np.clip(0.3 * fraud + 0.7 * rng.random(n), 0, 1)
    ranking = challenger_skill * fraud + (1 - challenger_skill) * rng.random(n)
    challenger = np.empty(n)
    challenger[np.argsort(ranking)] = np.sort(champion)  # same values, another order
    challenger = np.clip(challenger + shift, 0, 1)
    explored = rng.random(n) < 0.2
    decision = np.where(champion >= 0.8, "block", np.where(champion >= 0.5, "review", "approve"))
    if block_share is not None:
        decision = np.where(rng.random(n) < block_share, "block", "approve")
    ids = [f"t{start_ms}-{i}" for i in range(n)]
    table = pa.table({
        "txn_id": ids, "decision": decision, "base_score": champion,
        "challenger_score": challenger if shadow else [None] * n,
        "challenger_version": [shadow] * n, "model_version": [version] * n,
        "explored": explored, "propensity": np.where(explored, 0.5, 1.0),
        "degraded": [False] * n, "ts_ms": start_ms + np.arange(n) * 1000,
        "mcc": ["5411"] * n, "channel": ["online"] * n,
        "features": pa.StructArray.from_arrays([pa.array(np.full(n, 20.0))], ["txn_amount_eur"]),
    })  # fmt: skip
    path = tmp_path / f"d{start_ms}.parquet"
    pq.write_table(table, path)
    labels = {t: ("fraud", 0) for t, f in zip(ids, fraud, strict=True) if f}
    return path, labels


def read(path: Path, labels: dict) -> DecisionLog:
    return DecisionLog.read(path, labels, cutoff_ms=2**62)


def test_a_better_challenger_is_promoted_with_its_reason(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    path, labels = log(tmp_path, 5_000, challenger_skill=0.7)
    action = govern(read(path, labels), reg, TIERS, GATES)
    assert action.action == "promote" and action.version == "chall"
    assert "AP on the unbiased sample" in action.reasons[0]
    assert reg.pointer().champion == "chall" and reg.pointer().challenger is None
    c = action.comparison
    assert c is not None and c["ap_challenger_unbiased"] > c["ap_champion_unbiased"] + 0.01


@pytest.mark.parametrize(
    ("skill", "shift", "nodes", "why"),
    [
        (0.05, 0.0, 100, "no better on the unbiased sample"),
        (0.7, 0.6, 100, "score distribution moved"),
        (0.7, 0.0, 1_000, "too costly to score"),
    ],
)
def test_a_challenger_that_fails_a_gate_stays_in_the_shadow(
    tmp_path: Path, skill: float, shift: float, nodes: int, why: str
) -> None:
    reg = registry(tmp_path, challenger_nodes=nodes)
    path, labels = log(tmp_path, 5_000, challenger_skill=skill, shift=shift)
    action = govern(read(path, labels), reg, TIERS, GATES)
    assert action.action == "none" and any(why in r for r in action.reasons), action.reasons
    assert reg.pointer().champion == "champ" and reg.pointer().challenger == "chall"


def test_too_few_labelled_explored_decisions_hold_the_promotion() -> None:
    few = ModelComparison("a", "b", 1_000, 10, 5, 0.1, 0.9, 0.0, 10, 10)
    verdict = promotion_verdict(few, GATES)
    assert not verdict.allowed and "unbiased sample too small" in verdict.reasons[0]


def promoted_at(reg: ModelRegistry) -> int:
    return int(datetime.fromisoformat(reg.pointer().promoted_at or "").timestamp() * 1000)


def test_a_new_champion_whose_block_rate_leaves_its_band_is_rolled_back(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    reg.promote("chall", FS)  # by hand: its shadow period is in the log before this moment
    at = promoted_at(reg)
    before, labels = log(tmp_path, 3_000, 0.7, start_ms=at - 3_000_000, version="champ")
    after, _ = log(tmp_path, 2_000, 0.7, start_ms=at, version="chall", shadow=None,
                   block_share=0.2)  # fmt: skip
    both = pa.concat_tables(
        [pq.read_table(before), pq.read_table(after)], promote_options="default"
    )
    pq.write_table(both, tmp_path / "both.parquet")
    action = govern(read(tmp_path / "both.parquet", labels), reg, TIERS, GATES, now_ms=at + HOUR)
    assert action.action == "rollback" and action.version == "chall"
    assert "block rate" in action.reasons[0]
    assert reg.pointer().champion == "champ"


def test_a_new_champion_within_its_band_stays(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    reg.promote("chall", FS)
    at = promoted_at(reg)
    before, labels = log(tmp_path, 3_000, 0.7, start_ms=at - 3_000_000, version="champ")
    table = pq.read_table(before)
    # after promotion it decides as its shadow scores said it would
    shadow = table["challenger_score"].to_numpy()
    decided = np.where(shadow >= 0.8, "block", np.where(shadow >= 0.5, "review", "approve"))
    after = table.set_column(1, "decision", pa.array(decided)).set_column(
        table.column_names.index("model_version"), "model_version", pa.array(["chall"] * 3_000)
    )
    after = after.set_column(after.column_names.index("ts_ms"), "ts_ms",
                             pa.array(at + np.arange(3_000) * 1000))  # fmt: skip
    pq.write_table(pa.concat_tables([table, after]), tmp_path / "both.parquet")
    action = govern(read(tmp_path / "both.parquet", labels), reg, TIERS, GATES, now_ms=at + HOUR)
    assert action.action != "rollback", action.reasons
    assert reg.pointer().champion == "chall"


def test_the_kill_switch_stops_every_automatic_change(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    path, labels = log(tmp_path, 5_000, challenger_skill=0.7)
    reg.freeze("incident 42")
    action = govern(read(path, labels), reg, TIERS, GATES)
    assert (action.action, action.reasons) == ("none", ["frozen: incident 42"])
    assert reg.pointer().champion == "champ"
    reg.freeze(None)
    assert govern(read(path, labels), reg, TIERS, GATES).action == "promote"


def test_a_dry_run_changes_nothing(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    path, labels = log(tmp_path, 5_000, challenger_skill=0.7)
    assert govern(read(path, labels), reg, TIERS, GATES, apply=False).action == "promote"
    assert reg.pointer().champion == "champ"


def test_the_cli_compares_and_freezes(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from fraudguard.cli.model import model
    from fraudguard.config import Settings

    reg = registry(tmp_path)
    path, labels = log(tmp_path, 5_000, challenger_skill=0.7)
    labels_file = tmp_path / "labels.jsonl"
    labels_file.write_bytes(b"".join(
        orjson.dumps({"txn_id": t, "label": "fraud", "reported_at": "2026-01-01T00:00:00Z"})
        + b"\n" for t in labels
    ))  # fmt: skip
    settings = Settings(models_root=reg.root)
    runner = CliRunner()
    result = runner.invoke(model, ["compare", str(path), "--labels", str(labels_file)],
                           obj=settings)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ap_challenger_unbiased" in result.output and "promotion gate: passes" in result.output
    frozen = runner.invoke(model, ["freeze", "--reason", "audit"], obj=settings)
    assert frozen.exit_code == 0 and reg.pointer().frozen == "audit"
    dry = runner.invoke(model, ["govern", str(path), "--labels", str(labels_file), "--dry-run"],
                        obj=settings)  # fmt: skip
    assert dry.exit_code == 0 and "none : frozen: audit" in dry.output
    assert runner.invoke(model, ["unfreeze"], obj=settings).exit_code == 0
    assert reg.pointer().frozen is None
