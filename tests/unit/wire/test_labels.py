"""A label's entities: named only when the card, merchant and terminal all are."""

from __future__ import annotations

import pytest

from fraudguard.wire.labels import label_entities

FULL = {"txn_id": "t1", "card_id": "c1", "merchant_id": "m1", "terminal_id": "m1-t1"}


def test_a_label_naming_its_payment_gives_the_three_entities() -> None:
    assert label_entities({**FULL, "label": "fraud", "source": "review"}) == ("c1", "m1", "m1-t1")


@pytest.mark.parametrize("name", ["card_id", "merchant_id", "terminal_id"])
@pytest.mark.parametrize("value", [None, "", 7, ["m1"]])
def test_a_label_missing_one_entity_names_none(name: str, value: object) -> None:
    assert label_entities({**FULL, name: value}) is None
    assert label_entities({k: v for k, v in FULL.items() if k != name}) is None
