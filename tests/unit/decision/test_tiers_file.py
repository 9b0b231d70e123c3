"""Tiers files: the committed ones load, every mistake is refused with the field's path."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudguard.config import PROJECT_ROOT
from fraudguard.decision import (
    BUILTIN_TIERS,
    AmountBand,
    Override,
    load_tiers,
    tiers_from_dict,
    tiers_from_yaml,
)
from fraudguard.errors import ConfigError

FILES = sorted((PROJECT_ROOT / "thresholds").glob("*.yaml"))

GOOD = """\
version: "v1"
review: 0.5
block: 0.8
overrides:
  - name: gambling
    mcc: ["7995", "7801"]
    review: 0.3
    block: 0.6
  - name: online-large
    channel: online
    amount_eur: {min: 1000, max: 5000}
    review: 0.35
    block: 0.7
"""


def test_committed_files_are_valid() -> None:
    assert {p.name for p in FILES} >= {"default.yaml", "segments-example.yaml"}
    for path in FILES:
        tiers = load_tiers(path)
        assert tiers_from_dict(tiers.to_dict()) == tiers


def test_default_file_matches_the_builtin_tiers() -> None:
    tiers = load_tiers(PROJECT_ROOT / "thresholds" / "default.yaml")
    assert (tiers.review, tiers.block, tiers.overrides) == (
        BUILTIN_TIERS.review,
        BUILTIN_TIERS.block,
        (),
    )


def test_good_text_loads_to_the_expected_tiers() -> None:
    tiers = tiers_from_yaml(GOOD)
    assert tiers.version == "v1" and (tiers.review, tiers.block) == (0.5, 0.8)
    assert tiers.overrides == (
        Override("gambling", 0.3, 0.6, mcc=frozenset({"7995", "7801"})),
        Override("online-large", 0.35, 0.7, channel="online", amount_eur=AmountBand(1000, 5000)),
    )
    assert tiers_from_dict(tiers.to_dict()) == tiers


def test_open_ended_band_round_trips_without_infinity() -> None:
    tiers = tiers_from_yaml(GOOD.replace(", max: 5000", ""))
    band = tiers.to_dict()["overrides"][1]["amount_eur"]  # type: ignore[index]
    assert band == {"min": 1000.0}
    assert tiers_from_dict(tiers.to_dict()) == tiers


def _edit(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_edit("block: 0.8", "block: 0.4"), "x.yaml: block: 0.4 must be above review (0.5)"),
        (_edit("block: 0.6", "block: 0.2"),
         "x.yaml: overrides[0].block: 0.2 must be above review (0.3)"),
        (_edit("    block: 0.7", "    block: 1.2"),
         "x.yaml: overrides[1].block: 1.2 must be a number in [0, 1]"),
        (_edit("review: 0.5", "review: '0.5'"), "x.yaml: review: must be a number, not a string"),
        (_edit("review: 0.5", "review: yes"), "x.yaml: review: must be a number, not a boolean"),
        (_edit("review: 0.5", "review: .nan"), "x.yaml: review: nan must be a number in [0, 1]"),
        (_edit('version: "v1"\n', ""), "x.yaml: version: is required"),
        (_edit('version: "v1"', "version: 1.10"), "x.yaml: version: must be a string (quote it)"),
        (_edit('version: "v1"', "version: 2026-11-25"), "x.yaml: version: must be a string"),
        (_edit('version: "v1"', 'version: "two words"'), "x.yaml: version: 'two words' must be"),
        (_edit("review: 0.5", "reviews: 0.5"), "x.yaml: reviews: unknown key (known: version,"),
        (_edit("    mcc:", "    country: FR\n    mcc:"),
         "x.yaml: overrides[0].country: unknown key"),
        (_edit('["7995", "7801"]', '["7995", 7801]'),
         'x.yaml: overrides[0].mcc[1]: must be a quoted string such as "5411", not 7801'),
        (_edit('["7995", "7801"]', '["7995", "7995"]'),
         "x.yaml: overrides[0].mcc[1]: '7995' repeats mcc[0]"),
        (_edit('["7995", "7801"]', '"7995"'), "x.yaml: overrides[0].mcc: must be a list"),
        (_edit('["7995", "7801"]', '["79950"]'),
         "x.yaml: overrides[0].mcc: '79950' is not a four-digit code"),
        (_edit("channel: online", "channel: atm"), "x.yaml: overrides[1].channel: 'atm' must be"),
        (_edit("{min: 1000, max: 5000}", "{min: 1000, max: 500}"),
         "x.yaml: overrides[1].amount_eur.max: 500.0 must be above min"),
        (_edit("{min: 1000, max: 5000}", "{}"), "x.yaml: overrides[1].amount_eur: sets neither"),
        (_edit("{min: 1000, max: 5000}", "{above: 3}"),
         "x.yaml: overrides[1].amount_eur.above: unknown key"),
        (_edit("{min: 1000, max: 5000}", "1000"), "x.yaml: overrides[1].amount_eur: must be a"),
        (_edit("  - name: gambling\n    mcc:", "  - mcc:"),
         "x.yaml: overrides[0].name: is required"),
        (_edit("name: online-large", "name: gambling"),
         "x.yaml: overrides[1].name: 'gambling' is already the name of overrides[0]"),
        (_edit("channel: online\n    amount_eur: {min: 1000, max: 5000}", "mcc: ['7801']"),
         "x.yaml: overrides[1]: can never apply: every transaction it matches is matched first "
         "by 'gambling'"),
        (_edit("    channel: online\n    amount_eur: {min: 1000, max: 5000}\n", ""),
         "x.yaml: overrides[1]: sets no segment key (mcc, channel, amount_eur)"),
        (_edit("block: 0.8", "block: 0.8\nblock: 0.9"),
         "x.yaml: not valid YAML: key 'block' appears twice (line 4, column 1)"),
        ("version: v1\nreview: [0.5\n", "x.yaml: not valid YAML: "),
        ("", "x.yaml: (document): is empty"),
        ("- 0.5\n- 0.8\n", "x.yaml: (document): must be a mapping, not a list"),
        ("version: v\nreview: 0.1\nblock: 0.2\noverrides: {a: 1}\n",
         "x.yaml: overrides: must be a list, not a mapping"),
        ("version: v\nreview: 0.1\nblock: 0.2\noverrides: [3]\n",
         "x.yaml: overrides[0]: must be a mapping, not a int"),
        ("version: v\nreview: 0.1\nblock: 0.2\n[1]: 2\n", "x.yaml: not valid YAML: "),
    ],
)  # fmt: skip
def test_mistakes_are_refused_naming_the_file_and_field(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        tiers_from_yaml(text, source="x.yaml")
    assert expected in str(caught.value), str(caught.value)


def test_empty_overrides_mean_none() -> None:
    assert tiers_from_yaml("version: v\nreview: 0.1\nblock: 0.2\noverrides:\n").overrides == ()


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing.yaml: cannot read"):
        load_tiers(tmp_path / "missing.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b'version: "caf\xe9"\nreview: 0.1\nblock: 0.2\n')
    with pytest.raises(ConfigError, match="latin.yaml: not UTF-8"):
        load_tiers(latin)
