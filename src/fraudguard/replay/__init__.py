"""Historical payments from other sources: column mappings that turn a foreign file into our
transactions and labels (:mod:`~fraudguard.replay.convert`), and the rejects every file path
shares (:mod:`~fraudguard.replay.rejects`)."""
