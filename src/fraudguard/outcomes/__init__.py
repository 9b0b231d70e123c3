"""Outcomes as a bank sees them: from decisions and the generator's ground truth, only the
labels the bank would learn (chargebacks for approved fraud, verdicts for reviews within the
day's capacity, nothing for blocks unless explored), each with its report time.

Pure library code without Kafka: :class:`BankOutcomes` answers one decision record at a time,
so a streaming service on the ``decisions`` topic can call it per record; files go through
:func:`write_bank_labels` (``fraudguard outcomes``).
"""

from fraudguard.outcomes.bank import BankLabel, BankOutcomes, DecisionFacts, bank_labels
from fraudguard.outcomes.files import OutcomesReport, read_decisions, write_bank_labels

__all__ = [
    "BankLabel",
    "BankOutcomes",
    "DecisionFacts",
    "OutcomesReport",
    "bank_labels",
    "read_decisions",
    "write_bank_labels",
]
