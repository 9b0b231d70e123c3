"""The fraud-ops panel: a FastAPI service over the decision store it ingests from Kafka.

``create_app`` builds the application; :mod:`.ingest` keeps the store filled; :mod:`.routes`
has one router per resource, :mod:`.thresholds` the tiers workflow, :mod:`.accounts` users and
sessions, :mod:`.audit` the append-only log.
"""
