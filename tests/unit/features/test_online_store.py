"""The online store reader: where it looks, and what it refuses to read."""

from __future__ import annotations

import pytest
import redis

from fraudguard.config import RedisSettings, Settings
from fraudguard.features.online_store import OnlineFeatureReader, StoredFeatures


def test_from_settings_points_at_the_configured_redis() -> None:
    settings = Settings(redis=RedisSettings(host="127.0.0.2", port=16379, db=3))
    reader = OnlineFeatureReader.from_settings(settings)  # connects lazily: no server needed
    kwargs = reader.client.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.2", 16379, 3)
    assert reader.key_prefix == "fg:features"
    assert reader.key_for("merchant", "m00017") == "fg:features:merchant:m00017"
    assert reader.names_prefix == "fg:features:names:"


@pytest.mark.parametrize(("entity", "entity_id"), [("", "c1"), ("card:x", "c1"), ("card", "")])
def test_a_key_needs_an_entity_without_colon_and_an_id(entity: str, entity_id: str) -> None:
    reader = OnlineFeatureReader(redis.Redis(host="127.0.0.1", port=1))
    with pytest.raises(ValueError, match="entity"):
        reader.key_for(entity, entity_id)


def test_ids_may_contain_colons_and_stay_separate_keys() -> None:
    reader = OnlineFeatureReader(redis.Redis(host="127.0.0.1", port=1), key_prefix="p")
    keys = {reader.key_for("card", "x1"), reader.key_for("merchant", "x1"),
            reader.key_for("card", "x1:y")}  # fmt: skip
    assert keys == {"p:card:x1", "p:merchant:x1", "p:card:x1:y"}


def test_stored_features_are_ordered_by_event_time_then_txn_id() -> None:
    older, newer = StoredFeatures(1000, "t9", {}), StoredFeatures(2000, "t1", {})
    assert older.version < newer.version
    assert StoredFeatures(1000, "t10", {}).version < StoredFeatures(1000, "t6", {}).version
