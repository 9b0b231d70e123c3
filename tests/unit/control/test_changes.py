"""Every live change goes through ``fraudguard.control.changes``; here on an in-memory control
topic (the real topic's round trip is in ``tests/integration``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from fraudguard.config import Settings
from fraudguard.control import changes
from fraudguard.control.reranker_message import OFFSET_METRIC, RerankerChange, labels_offsets
from fraudguard.decision import BUILTIN_TIERS, ThresholdTiers, tiers_from_dict
from fraudguard.errors import ConfigError, ModelNotFound, RerankerError
from fraudguard.models.metadata import ModelMetadata
from fraudguard.models.registry import ModelRegistry
from fraudguard.reranker.model import Reranker

if TYPE_CHECKING:
    from tests.unit.conftest import ControlTopic


def tiers(version: str, block: float = 0.8) -> ThresholdTiers:
    return tiers_from_dict({"version": version, "review": 0.5, "block": block})


def test_publishing_a_version_again_with_other_tiers_is_refused(control: ControlTopic) -> None:
    first = changes.publish_tiers(Settings(), tiers("v1"), issued_at_ms=1)
    assert (first.version, first.offset, first.again) == ("v1", 0, False)
    with pytest.raises(ConfigError, match="'v1' was already published with different tiers"):
        changes.publish_tiers(Settings(), tiers("v1", block=0.9))
    assert len(control.messages) == 1
    assert changes.publish_tiers(Settings(), tiers("v1")).again


def test_tiers_roll_back_to_the_previous_version_or_a_named_one(control: ControlTopic) -> None:
    settings = Settings()
    with pytest.raises(ConfigError, match="no thresholds were ever published"):
        changes.roll_back_tiers(settings)
    for version in ("v1", "v2", "v3"):
        changes.publish_tiers(settings, tiers(version))
    assert changes.roll_back_tiers(settings).version == "v2"
    assert changes.roll_back_tiers(settings, to="v1").version == "v1"
    in_force = [change.tiers.version for _, change in changes.published_tiers(settings)]
    assert in_force == ["v1", "v2", "v3", "v2", "v1"]
    with pytest.raises(ConfigError, match="'v9' was never published"):
        changes.roll_back_tiers(settings, to="v9")


def test_only_one_version_ever_published_has_nothing_to_roll_back_to(control: ControlTopic) -> None:
    changes.publish_tiers(Settings(), BUILTIN_TIERS)
    with pytest.raises(ConfigError, match="no thresholds before builtin-v1"):
        changes.roll_back_tiers(Settings())


def snapshot(reranker: Reranker, offset: int):  # type: ignore[no-untyped-def]
    taken = reranker.snapshot()
    return type(taken).of(taken.blob, taken.created_at_ms, {f"{OFFSET_METRIC}0": float(offset)})


def test_a_reranker_rollback_republishes_the_earlier_snapshot_with_the_current_offsets(
    control: ControlTopic,
) -> None:
    settings = Settings()
    with pytest.raises(RerankerError, match="no re-ranker snapshot was ever published"):
        changes.roll_back_reranker(settings)
    reranker = Reranker(clock=lambda: 1_795_428_000_000)
    first = snapshot(reranker, 10)
    control.publish(settings, RerankerChange(first, "m1"))
    with pytest.raises(RerankerError, match="no snapshot before"):
        changes.roll_back_reranker(settings)
    reranker.learn_batch([(0.9, {}, True), (0.1, {}, False)] * 50)
    second = snapshot(reranker, 250)
    assert second.version != first.version
    control.publish(settings, RerankerChange(second, "m1"))

    back = changes.roll_back_reranker(settings)
    assert back.version == first.version and back.blob == first.blob
    assert labels_offsets(back) == {0: 250}  # the labels after the rolled-back ones are next
    published = changes.published_rerankers(settings)
    assert [c.snapshot.version for c in published] == [first.version, second.version, first.version]
    assert published[-1].base_model_version == "m1"
    with pytest.raises(RerankerError, match="was never published"):
        changes.roll_back_reranker(settings, to="rr-nope")


def register(registry: ModelRegistry, version: str) -> None:
    metadata = ModelMetadata(
        version=version, created_at="2026-11-26T00:00:00Z", framework="xgboost",
        feature_set_version="fs-test", feature_names=["a"], scale_pos_weight=1.0,
        code_version="test",
    )  # fmt: skip
    registry.register(b"model", metadata)


def test_model_promotion_and_rollback_move_the_champion_the_job_follows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(models_root=tmp_path / "models")
    registry = ModelRegistry.from_settings(settings)
    for version in ("m1", "m2"):
        register(registry, version)
    monkeypatch.setattr("fraudguard.models.registry._current_feature_set", lambda: "fs-test")
    first = changes.promote_model(settings, "m1")
    assert (first.before, first.after) == (None, "m1")
    second = changes.promote_model(settings, "m2")
    assert (second.before, second.after) == ("m1", "m2")
    assert registry.pointer().champion == "m2"
    back = changes.roll_back_model(settings)
    assert (back.before, back.after) == ("m2", "m1")
    assert registry.pointer().champion == "m1"
    with pytest.raises(ModelNotFound):
        changes.promote_model(settings, "m9")
