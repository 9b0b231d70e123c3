"""The `fraudguard` entry point: a path that cannot be written is one line naming it, with
exit 1, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fraudguard.cli import main

ROOT = Path(__file__).resolve().parents[3]


def test_an_unwritable_path_is_one_line_with_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = blocker / "inside" / "t.jsonl"  # a folder cannot be made inside a file
    monkeypatch.setattr(sys, "argv", [
        "fraudguard", "replay", "convert", str(ROOT / "tests/data/replay/handbook.csv"),
        "--mapping", str(ROOT / "replay/mappings/handbook.yaml"), "--out", str(out),
    ])  # fmt: skip
    monkeypatch.setenv("FRAUDGUARD_HOME", str(tmp_path / "home"))
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(blocker) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
