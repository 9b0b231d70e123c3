"""Rows refused on the way in from a file: counted by reason, kept in a rejects file, and a run
that refuses more than a set share of a file's rows fails.

``fraudguard replay convert`` (a foreign file through a mapping) and ``fraudguard features
build`` (a file of our own transactions) both refuse through :class:`RejectLog`, and both
validate a transaction with :func:`parse_row`, which is :func:`parse_transaction` without the
clock checks (history is older than any job clock allows). The rejects file is JSONL, one
object per refused row, in the order read::

    {"file": "paysim.csv", "row": 17, "reason": "bad_amount", "field": "amount",
     "detail": "amount 0.0 must be positive", "original": {"step": "1", "amount": "0", ...}}

>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "t.rejects.jsonl"
>>> with RejectLog(path, "t.csv", max_share=0.01) as log:
...     for row in range(1, 100):
...         log.accept()
...     log.refuse(100, RowRefused("bad_mcc", "mcc", "mcc '54' is not four digits"), {"mcc": "54"})
>>> log.reasons, log.first["t.csv"]
(Counter({'bad_mcc': 1}), "row 100: mcc: mcc '54' is not four digits")
>>> log.check()  # 1 of 100 is not over 1%
>>> orjson.loads(path.read_bytes())["original"]
{'mcc': '54'}
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from fraudguard.errors import FraudGuardError, InvalidInput, InvalidTransaction
from fraudguard.wire.transactions import (
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
    Transaction,
    parse_transaction,
)

DEFAULT_MAX_SHARE = 0.01
"""A run fails when it refuses more than this share of a file's rows: a few bad rows are data,
many are a wrong mapping or the wrong file, and training on what is left would mislead."""
REJECTS_SUFFIX = ".rejects.jsonl"

CONVERSION_REASONS: dict[str, str] = {
    "bad_row": "the row cannot be read: a CSV row with another number of fields than the"
    " header, a JSONL line that is not a JSON object",
    "missing_value": "the column a required field comes from is empty in this row",
    "wrong_type": "the column holds a list or an object where one value is needed",
    "bad_number": "the amount is not a number",
    "bad_timestamp": "a time that cannot be read in the mapping's form, or has no UTC offset"
    " and the mapping gives no timezone",
    "unmapped_value": "a value that the field's values map does not list, and no default",
    "bad_label": "a label value that is neither a fraud nor a legit value, or reported before"
    " its payment",
    "duplicate_label": "a second label for the same transaction in a labels file",
    "unknown_transaction": "a label in a labels file whose transaction is not in the data",
}
"""Reasons a mapping refuses a row before validation; validation adds the transaction's own
``REASONS`` (``fraudguard.wire.transactions``)."""

_REASON_FIELDS = {
    "bad_timestamp": "event_time",
    "future_timestamp": "event_time",
    "stale_timestamp": "event_time",
    "bad_amount": "amount",
    "unknown_currency": "currency",
    "bad_mcc": "mcc",
    "bad_country": "country",
    "bad_channel": "channel",
}
_FIELDS = frozenset(REQUIRED_FIELDS + OPTIONAL_FIELDS)


class RowRefused(InvalidInput):
    """A row that cannot become a transaction: the reason code, the field, and why."""

    def __init__(self, reason: str, field: str | None, detail: str) -> None:
        super().__init__(reason, detail)
        self.field = field


class TooManyRejects(FraudGuardError):
    """A run refused more than its allowed share of a file's rows."""

    http_status = 422


def default_rejects_path(out: Path) -> Path:
    """Where the rejects of a run writing ``out`` go: beside it.

    >>> default_rejects_path(Path("runs/paysim.jsonl")).as_posix()
    'runs/paysim.rejects.jsonl'
    """
    return out.with_name(f"{out.stem}{REJECTS_SUFFIX}")


def transaction_field(error: InvalidTransaction) -> str | None:
    """The field a refusal of :func:`parse_transaction` is about, when it is about one.

    >>> transaction_field(InvalidTransaction("wrong_type", "amount must be a number, got string"))
    'amount'
    >>> transaction_field(InvalidTransaction("missing_field", "missing mcc, country"))
    'mcc'
    """
    if error.reason in _REASON_FIELDS:
        return _REASON_FIELDS[error.reason]
    words = error.detail.replace(",", " ").split()
    if error.reason in ("missing_field", "unknown_field") and len(words) > 1:
        return words[1].strip("'")
    return words[0] if words and words[0] in _FIELDS else None


def parse_row(doc: dict[str, Any]) -> Transaction:
    """A transaction from the fields of one row, validated by the job's own parser without
    its clock checks; a refusal is a :class:`RowRefused` naming the field."""
    try:
        return parse_transaction(orjson.dumps(doc), now_ms=None)
    except InvalidTransaction as exc:
        raise RowRefused(exc.reason, transaction_field(exc), exc.detail) from None


class RejectLog:
    """Counts the rows of each input file, writes each refused one to ``path`` as it comes,
    and fails a run over ``max_share``. The file is written on every run, empty when nothing
    was refused, so a stale one never outlives its run."""

    def __init__(self, path: Path, file: str, max_share: float = DEFAULT_MAX_SHARE) -> None:
        if not 0.0 <= max_share <= 1.0:
            raise ValueError(f"max_share {max_share} is not a share between 0 and 1")
        self.path, self.file, self.max_share = path, file, max_share
        self.rows: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.first: dict[str, str] = {}
        self._out = path.open("wb")

    def __enter__(self) -> RejectLog:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._out.close()

    def accept(self, file: str | None = None) -> None:
        """One row of ``file`` (the log's own file by default) was used."""
        self.rows[file or self.file] += 1

    def refuse(
        self,
        row: int,
        error: RowRefused,
        original: Any,
        file: str | None = None,
        counted: bool = False,
    ) -> None:
        """Row number ``row`` (from 1) of ``file`` was refused for ``error``; ``counted``: it
        was accepted before (a label whose transaction never came)."""
        file = file or self.file
        self.rows[file] += not counted
        self.refused[file] += 1
        self.reasons[error.reason] += 1
        self.first.setdefault(file, describe(row, error))
        record = {"file": file, "row": row, "reason": error.reason, "field": error.field,
                  "detail": error.detail, "original": original}  # fmt: skip
        self._out.write(orjson.dumps(record, default=str) + b"\n")

    def summary(self) -> str:
        """One line: refused rows per file and by reason, and where they are."""
        if not self.refused:
            return "no row refused"
        per_file = ", ".join(
            f"{n:,} of {self.rows[f]:,} rows of {f} ({n / self.rows[f]:.2%})"
            for f, n in self.refused.items()
        )
        reasons = ", ".join(f"{r} {n:,}" for r, n in self.reasons.most_common())
        return f"refused {per_file}: {reasons}; every refused row is in {self.path}"

    def check(self) -> None:
        """Raises :class:`TooManyRejects` when a file's refused share is over ``max_share``."""
        over = [f for f, n in self.refused.items() if n > self.max_share * self.rows[f]]
        if over:
            firsts = "; ".join(f"first of {f}: {self.first[f]}" for f in over)
            raise TooManyRejects(
                f"{self.summary()}; more than the {self.max_share:.2%} allowed ({firsts})"
            )


def describe(row: int, error: RowRefused) -> str:
    """A refusal for a person: the row, the field and why.

    >>> describe(7, RowRefused("missing_value", "amount", "column TX_AMOUNT is empty"))
    'row 7: amount: column TX_AMOUNT is empty'
    """
    return f"row {row}: {error.field or 'row'}: {error.detail}"
