"""`fraudguard model govern` on the real Kafka: the automatic promotion it makes is on the
control topic with its reasons, and a frozen registry's refusal is there too."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from tests.unit.models.test_governor import log, registry

from fraudguard.cli.model import model
from fraudguard.config import Settings
from fraudguard.control.messages import ModelNotice
from fraudguard.control.topic import read_control

pytestmark = pytest.mark.integration


def test_each_round_of_the_lifecycle_is_on_the_control_topic(
    isolated_settings: Settings, tmp_path: Path
) -> None:
    reg = registry(tmp_path)
    settings = isolated_settings.model_copy(update={"models_root": reg.root})
    path, labels = log(tmp_path, 5_000, challenger_skill=0.7)
    labels_file = tmp_path / "labels.jsonl"
    labels_file.write_bytes(b"".join(
        orjson.dumps({"txn_id": t, "label": "fraud", "reported_at": "2026-01-01T00:00:00Z"})
        + b"\n" for t in labels
    ))  # fmt: skip
    args = ["govern", str(path), "--labels", str(labels_file)]
    runner = CliRunner()
    reg.freeze("audit")
    frozen = runner.invoke(model, args, obj=settings)
    assert frozen.exit_code == 0, frozen.output
    reg.freeze(None)
    promoted = runner.invoke(model, args, obj=settings)
    assert promoted.exit_code == 0, promoted.output
    notices = [n for _, n in read_control(settings, ModelNotice)]
    assert [(n.action, n.version) for n in notices] == [("none", None), ("promote", "chall")]
    assert notices[0].reasons == ("frozen: audit",)
    assert "AP on the unbiased sample" in notices[1].reasons[0]
    assert reg.pointer().champion == "chall"
