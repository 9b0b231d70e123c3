"""Wire formats: what crosses Kafka. The transaction read from ``transactions`` (and its
dead-letter record), the decision written to ``decisions``, and the fixed euro rates amounts are
compared in."""
