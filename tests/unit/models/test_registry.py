"""The registry: folders appear whole, the champion pointer keeps its history, promotion checks
the feature set."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from fraudguard.errors import ModelError, ModelNotFound
from fraudguard.models import ModelMetadata, ModelRegistry, code_version, model_version
from fraudguard.models.registry import POINTER_FILE

FS = "fs-current"


def meta(
    version: str, feature_set: str = FS, created: str = "2026-11-25T16:00:00Z"
) -> ModelMetadata:
    return ModelMetadata(
        version=version,
        created_at=created,
        framework="xgboost 3.2.0",
        feature_set_version=feature_set,
        feature_names=["a", "b"],
        scale_pos_weight=1.0,
        code_version="abc1234",
        metrics={"test": {"average_precision": 0.5, "fraud_rate": 0.003}},
    )


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    reg = ModelRegistry(tmp_path / "models")
    for i, version in enumerate(("m1", "m2", "m3")):
        reg.register(f"model {version}".encode(), meta(version, created=f"2026-11-25T16:0{i}:00Z"))
    return reg


def test_registered_models_are_listed_oldest_first_with_their_hash(registry: ModelRegistry) -> None:
    entries = registry.entries()
    assert [e.version for e in entries] == ["m1", "m2", "m3"]
    assert entries[0].model_path.read_bytes() == b"model m1"
    assert len(entries[0].metadata.model_sha256) == 64
    assert registry.get("m2").metadata == entries[1].metadata
    with pytest.raises(ModelError, match="already registered"):
        registry.register(b"other", meta("m1"))


def test_a_failed_registration_leaves_nothing_behind(registry: ModelRegistry) -> None:
    def broken_report(folder: Path) -> None:
        (folder / "report.md").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        registry.register(b"x", meta("m4"), attach=broken_report)
    assert [e.version for e in registry.entries()] == ["m1", "m2", "m3"]
    assert sorted(p.name for p in registry.root.iterdir()) == ["m1", "m2", "m3"]


def test_promote_and_rollback_walk_the_history(registry: ModelRegistry) -> None:
    assert registry.champion() is None
    registry.promote("m1", FS)
    registry.promote("m2", FS)
    pointer = registry.promote("m3", FS)
    assert (pointer.champion, [e.version for e in pointer.history], pointer.sequence) == (
        "m3", ["m1", "m2"], 3,
    )  # fmt: skip
    assert registry.promote("m3", FS).sequence == 3  # promoting the champion changes nothing
    assert registry.rollback(FS).champion == "m2"
    assert registry.rollback(FS).champion == "m1"
    with pytest.raises(ModelError, match="no previous champion .*the champion is m1"):
        registry.rollback(FS)
    on_disk = json.loads((registry.root / POINTER_FILE).read_text())
    assert on_disk["champion"] == "m1" and on_disk["sequence"] == 5
    assert not [p for p in registry.root.iterdir() if p.name.endswith(".tmp")]


def test_a_model_of_another_feature_set_is_refused_naming_both_versions(
    registry: ModelRegistry,
) -> None:
    registry.register(b"old", meta("old", feature_set="fs-old"))
    with pytest.raises(ModelError) as refused:
        registry.promote("old", FS)
    assert "fs-old" in str(refused.value) and FS in str(refused.value)
    assert registry.pointer().champion is None
    # Nor can a rollback return to it once the code has moved on.
    registry.promote("old", "fs-old")  # champion while the code computed fs-old
    registry.promote("m1", FS)
    with pytest.raises(ModelError, match="trained on feature set fs-old"):
        registry.rollback(FS)
    assert registry.pointer().champion == "m1"


def test_unknown_and_malformed_versions_are_not_found(registry: ModelRegistry) -> None:
    for version in ("m9", "../m1", "", "a/b"):
        with pytest.raises(ModelNotFound):
            registry.promote(version, FS)


def test_concurrent_promotions_lose_no_change(registry: ModelRegistry) -> None:
    def flip(versions: tuple[str, str]) -> None:
        for i in range(30):
            registry.promote(versions[i % 2], FS)

    threads = [threading.Thread(target=flip, args=(v,)) for v in (("m1", "m2"), ("m3", "m2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pointer = registry.pointer()
    # Every change pushed exactly one entry: a lost update would break this.
    assert len(pointer.history) == pointer.sequence - 1 > 0


def test_versions_sort_by_time_and_name_the_code() -> None:
    from datetime import UTC, datetime

    version = model_version(b"abc", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert version.startswith("xgb-20260102030405-") and len(version) == len("xgb-") + 14 + 7
    assert code_version(Path(__file__).resolve().parents[3])


def test_a_challenger_is_scored_beside_the_champion_until_promoted_or_cleared(
    registry: ModelRegistry,
) -> None:
    registry.promote("m1", FS)
    pointer = registry.set_challenger("m2", FS)
    assert (pointer.champion, pointer.challenger) == ("m1", "m2")
    assert pointer.challenger_since is not None
    assert registry.challenger() is not None and registry.challenger().version == "m2"
    # the JVM follows the same file: both names are in it
    on_disk = json.loads((registry.root / POINTER_FILE).read_text())
    assert (on_disk["champion"], on_disk["challenger"]) == ("m1", "m2")
    assert registry.set_challenger("m2", FS).sequence == pointer.sequence  # unchanged
    with pytest.raises(ModelError, match="m1 is the champion"):
        registry.set_challenger("m1", FS)
    registry.register(b"old", meta("old", feature_set="fs-old"))
    with pytest.raises(ModelError, match="trained on feature set fs-old"):
        registry.set_challenger("old", FS)
    # another champion keeps the challenger; promoting the challenger ends its shadow
    assert registry.promote("m3", FS).challenger == "m2"
    assert registry.rollback(FS).challenger == "m2"
    promoted = registry.promote("m2", FS)
    assert (promoted.champion, promoted.challenger, promoted.challenger_since) == ("m2", None, None)
    registry.set_challenger("m3", FS)
    assert registry.set_challenger(None, FS).challenger is None
    assert registry.challenger() is None
