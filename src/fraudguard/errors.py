"""One error family for the library, the CLI and the panel.

Each error knows the HTTP status the panel should answer with, so the API raises the same
errors as the library instead of translating them.
"""

from __future__ import annotations


class FraudGuardError(Exception):
    """Base class of every error FraudGuard raises on purpose."""

    http_status: int = 500


class ConfigError(FraudGuardError):
    """A setting or a configuration file is invalid."""

    http_status = 400


class StackError(FraudGuardError):
    """A local service (Kafka, Redis, Maven, Java) cannot be installed, started or reached."""

    http_status = 503


class InvalidInput(FraudGuardError):
    """A message from outside (a transaction, a label) that cannot be used; it goes to a
    dead-letter topic.

    ``reason`` is a short machine-readable code (for example ``bad_json``) that the
    dead-letter record carries; the message text explains it for a person.
    """

    http_status = 422

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class InvalidTransaction(InvalidInput):
    """A message on the transactions topic is not a valid transaction."""


class InvalidLabel(InvalidInput):
    """A message on the labels topic cannot be learnt from (see ``labels.dlq``)."""


class StoreError(FraudGuardError):
    """The online feature store holds something this version cannot read."""


class JobError(FraudGuardError):
    """The streaming job cannot be started, found or stopped."""

    http_status = 409


class MetricsError(FraudGuardError):
    """The job's metrics endpoint cannot be reached, or its text is not Prometheus's."""

    http_status = 503


class ControlMessageError(ConfigError):
    """A message on the control topic is not one the job can apply (unknown type, bad JSON,
    invalid content); the job skips it and says why."""


class RerankerError(FraudGuardError):
    """The re-ranker got an input it cannot use (a score outside [0, 1], an unknown snapshot
    version, a snapshot of another format)."""

    http_status = 422


class TrainingError(FraudGuardError):
    """The training data cannot train a model: columns missing, no fraud, an empty period."""

    http_status = 422


class ModelError(FraudGuardError):
    """A model cannot be registered, loaded, promoted or rolled back as asked."""

    http_status = 409


class ModelNotFound(ModelError):
    """No model of that version is in the registry."""

    http_status = 404
