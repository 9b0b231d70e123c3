"""One row of a foreign file to one transaction (and its label), by a mapping.

Every transaction goes through :func:`~fraudguard.replay.rejects.parse_row`, the job's own
validation without the clock checks, so a converted file holds nothing the job would refuse.
A row that cannot be converted raises :class:`~fraudguard.replay.rejects.RowRefused` naming the
field and the column.

>>> from fraudguard.replay.mapping_file import mapping_from_yaml
>>> convert = RowConverter(mapping_from_yaml('''
... name: tiny
... ids: replace
... fields: {txn_id: id, card_id: {template: "card {c}"}, customer_id: c, merchant_id: shop,
...          terminal_id: shop, amount: amt, currency: {constant: EUR},
...          mcc: {constant: "5411"}, country: {constant: FR}, channel: {constant: online}}
... time: {column: ts, form: epoch_s}
... labels: {column: bad, fraud_values: [1], reported_after: 2d}
... '''))
>>> row = {"id": "7", "c": "42", "shop": "s1", "amt": "9.5", "ts": "1522540800", "bad": "1"}
>>> txn = convert.transaction(row, 1)
>>> txn.card_id, txn.event_time, txn.amount
('card_42', '2018-04-01T00:00:00.000Z', 9.5)
>>> convert.label(row, 1, txn).reported_at
'2018-04-03T00:00:00.000Z'
>>> convert.transaction({**row, "amt": "n/a"}, 2)
Traceback (most recent call last):
...
fraudguard.replay.rejects.RowRefused: bad_number: column amt: 'n/a' is not a number
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fraudguard.generator.labels import GroundTruthLabel
from fraudguard.replay.mapping import ROW_NUMBER, FieldSource, Mapping
from fraudguard.replay.rejects import RowRefused, parse_row
from fraudguard.replay.values import as_number, as_text, duration_ms, time_ms
from fraudguard.wire.transactions import Transaction, format_event_time

ID_FIELDS = ("txn_id", "card_id", "customer_id", "merchant_id", "terminal_id", "device_id")
ID_REPLACEMENT = "_"
"""With ``ids: replace``, each character outside [A-Za-z0-9_.:-] becomes this. Two ids that
differ only there become one id; ``ids: refuse`` (the default) refuses such rows instead."""
_ID_OTHER = re.compile(r"[^A-Za-z0-9_.:\-]")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

TimeSpec = tuple[str, str, int, str | None]
"""A time column, its form, its start and its timezone."""
Getter = Callable[[dict[str, Any], int], str | None]


@dataclass(frozen=True, slots=True)
class LabelEntry:
    """A label read from a row, before it meets its transaction."""

    txn_id: str
    fraud: bool
    reported_ms: int | None
    scenario: str


def text_getter(field: str, source: FieldSource) -> Getter:
    """The text of ``source`` in a row (``None`` when its column is empty), through its values
    map; raises :class:`RowRefused` for a value the map does not list."""
    base = _base_getter(field, source)
    if source.values is None:
        return base
    values, default = source.values, source.default

    def mapped(row: dict[str, Any], number: int) -> str | None:
        text = base(row, number)
        if text is None:
            return None
        found = values.get(text, default)
        if found is None:
            known = ", ".join(repr(k) for k in list(values)[:8])
            detail = f"{_what(source)}: {text!r} is not in the values map ({known})"
            raise RowRefused("unmapped_value", field, detail)
        return found

    return mapped


def _base_getter(field: str, source: FieldSource) -> Getter:
    if source.constant is not None:
        constant = source.constant
        return lambda row, number: constant
    if source.column is not None:
        column = source.column
        return lambda row, number: cell_text(row, column, field)
    assert source.template is not None
    parts = _PLACEHOLDER.split(source.template)  # literal, name, literal, name, ..., literal
    names = parts[1::2]
    # One str.format call per row: the template's literal braces escaped, each name a "{}".
    form = "{}".join(p.replace("{", "{{").replace("}", "}}") for p in parts[0::2])

    def filled(row: dict[str, Any], number: int) -> str | None:
        texts = [str(number) if n == ROW_NUMBER else cell_text(row, n, field) for n in names]
        if None in texts:
            empty = names[texts.index(None)]
            raise RowRefused("missing_value", field, f"column {empty} is empty")
        return form.format(*texts)

    return filled


def cell_text(row: dict[str, Any], column: str, field: str) -> str | None:
    """The text of one cell (``None`` when empty); a list or an object is refused."""
    try:
        return as_text(row.get(column))
    except ValueError as exc:
        raise RowRefused("wrong_type", field, f"column {column}: {exc}") from None


def _what(source: FieldSource) -> str:
    if source.column is not None:
        return f"column {source.column}"
    if source.template is not None:
        return f"template {source.template!r}"
    return f"constant {source.constant!r}"


class RowConverter:
    """Converts rows by one mapping; built once, applied to every row."""

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        replace = mapping.ids == "replace"
        self._fields = [
            (name, text_getter(name, source), source, replace and name in ID_FIELDS)
            for name, source in mapping.fields.sources().items()
        ]
        assert mapping.fields.amount is not None
        self._amount_from = _what(mapping.fields.amount)
        time = mapping.time
        self._time = (time.column, time.form, time.start_ms(), time.timezone)
        labels = self._labels = mapping.labels
        if labels is not None:
            self._fraud, self._legit = frozenset(labels.fraud_values), labels.legit_values
            self._write_legit, self._source = labels.write_legit, labels.source
            self._after_ms = duration_ms(labels.reported_after) if labels.reported_after else 0
            at = labels.reported_at
            self._reported_at = (at.column, at.form, at.start_ms(), at.timezone) if at else None
            self._scenario = text_getter("scenario", labels.scenario) if labels.scenario else None
            txn_id = labels.txn_id or mapping.fields.txn_id
            assert txn_id is not None
            self._label_txn_id = text_getter("txn_id", txn_id)

    def transaction(self, row: dict[str, Any], number: int) -> Transaction:
        """The transaction of row ``number``; raises :class:`RowRefused`."""
        doc: dict[str, Any] = {}
        for name, get, source, replace in self._fields:
            text = get(row, number)
            if text is None:
                if name == "device_id":
                    continue
                raise RowRefused("missing_value", name, f"{_what(source)} is empty")
            if replace:
                text = _ID_OTHER.sub(ID_REPLACEMENT, text)
            doc[name] = text
        try:
            doc["amount"] = as_number(doc["amount"])
        except ValueError as exc:
            raise RowRefused("bad_number", "amount", f"{self._amount_from}: {exc}") from None
        doc["event_time"] = self._time_of(row, "event_time", self._time)[1]
        return parse_row(doc)

    def label(self, row: dict[str, Any], number: int, txn: Transaction) -> GroundTruthLabel | None:
        """The label in the row of ``txn`` (labels in a column of the data); ``None`` for a
        legitimate row when legit labels are not written. Raises :class:`RowRefused`."""
        entry = self.label_entry(row, number, txn.txn_id)
        if not entry.fraud and not self._write_legit:
            return None
        return self.joined_label(txn, entry)

    def label_entry(
        self, row: dict[str, Any], number: int, txn_id: str | None = None
    ) -> LabelEntry:
        """The label of a row (of the data, or of a labels file when ``txn_id`` is not given);
        its report time is ``None`` under a ``reported_after`` rule, which needs the payment's
        time. Raises :class:`RowRefused`."""
        labels = self._labels
        assert labels is not None
        if txn_id is None:
            txn_id = self._label_txn_id(row, number)
            if txn_id is None:
                raise RowRefused("missing_value", "txn_id", "the transaction id is empty")
            if self.mapping.ids == "replace":
                txn_id = _ID_OTHER.sub(ID_REPLACEMENT, txn_id)
        value = cell_text(row, labels.column, "label")
        if value is None:
            raise RowRefused("missing_value", "label", f"column {labels.column} is empty")
        fraud = value in self._fraud
        if not fraud and self._legit is not None and value not in self._legit:
            known = ", ".join(map(repr, (*self._fraud, *self._legit)))
            detail = f"column {labels.column}: {value!r} is not one of {known}"
            raise RowRefused("bad_label", "label", detail)
        reported = None
        if labels.reported_at is not None:
            reported = self._time_of(row, "reported_at", self._reported_at)[0]
        scenario = self._scenario(row, number) if self._scenario else None
        return LabelEntry(txn_id, fraud, reported, scenario or ("unknown" if fraud else "none"))

    def joined_label(self, txn: Transaction, entry: LabelEntry) -> GroundTruthLabel:
        """The label of ``txn``; raises :class:`RowRefused` when reported before the payment."""
        reported = txn.ts_ms + self._after_ms if entry.reported_ms is None else entry.reported_ms
        if reported < txn.ts_ms:
            raise RowRefused("bad_label", "reported_at", f"{format_event_time(reported)} is"
                             f" before the payment at {txn.event_time}")  # fmt: skip
        return GroundTruthLabel(
            txn_id=txn.txn_id,
            card_id=txn.card_id,
            merchant_id=txn.merchant_id,
            terminal_id=txn.terminal_id,
            label="fraud" if entry.fraud else "legit",
            scenario=entry.scenario,
            event_time=txn.event_time,
            reported_at=format_event_time(reported),
            source=self._source,
            reported_ms=reported,
        )

    @staticmethod
    def _time_of(row: dict[str, Any], field: str, spec: TimeSpec | None) -> tuple[int, str]:
        """Epoch milliseconds of a time cell, and its wire text."""
        assert spec is not None
        column, form, start_ms, timezone = spec
        value = row.get(column)
        if value is None or value == "":
            raise RowRefused("missing_value", field, f"column {column} is empty")
        try:
            ms = time_ms(value, form, start_ms, timezone)
            return ms, format_event_time(ms)
        except (ValueError, OverflowError, OSError) as exc:
            # OverflowError, OSError: a time the wire cannot write (year 300000) is not a time.
            raise RowRefused("bad_timestamp", field, f"column {column} ({form}): {exc}") from None
