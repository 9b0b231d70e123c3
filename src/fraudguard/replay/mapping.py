"""A column mapping: how a foreign payments file becomes FraudGuard transactions and labels.

A mapping is a YAML file (``replay/mappings/*.yaml``) read into the frozen :class:`Mapping`,
which refuses unknown keys; its validators raise :class:`MappingProblem` naming the key.
``docs/formats.md`` describes the format; in short::

    name: handbook
    ids: refuse                  # or replace: other characters than [A-Za-z0-9_.:-] become "_"
    fields:                      # every transaction field but event_time
      txn_id: TRANSACTION_ID     # a string is a column, renamed
      merchant_id: {template: "m{TERMINAL_ID}"}           # derived: {COLUMN}, {_row}
      currency: {constant: EUR}                           # the data lacks it
      channel: {column: type, values: {CASH_OUT: card_present}, default: online}
    time: {column: step, form: hours_since, start: "2018-04-01T00:00:00Z"}
    labels: {column: isFraud, fraud_values: [1], reported_after: 7d}

The loader is :mod:`fraudguard.replay.mapping_file`.
"""

from __future__ import annotations

import re
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from fraudguard.replay.values import as_text, duration_ms, parse_instant, zone
from fraudguard.wire.transactions import OPTIONAL_FIELDS, REQUIRED_FIELDS

ROW_NUMBER = "_row"
"""The template placeholder for the row's number in the file (from 1): an id for rows that
have none, such as PaySim's."""
TimeForm = Literal[
    "iso", "epoch_s", "epoch_ms", "seconds_since", "minutes_since", "hours_since", "days_since"
]
TIME_FORMS: tuple[str, ...] = get_args(TimeForm)
MAPPED_FIELDS: tuple[str, ...] = tuple(
    n for n in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS) if n != "event_time"
)
"""The transaction fields a mapping's ``fields`` gives: all but ``event_time``."""
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class MappingProblem(ValueError):
    """A wrong key inside a section; the loader puts ``key`` after the section's path."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(f"{key}: {why}")
        self.key, self.why = key, why


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldSource(_Strict):
    """Where one value comes from: a ``column``, a ``constant`` or a ``template`` of columns,
    then optionally through ``values`` (source text to our text; ``default`` for the rest)."""

    column: str | None = None
    constant: str | None = None
    template: str | None = None
    values: dict[str, str] | None = None
    default: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"column": data}
        if isinstance(data, dict) and isinstance(data.get("values"), dict):
            # Keys are compared with the data's text form: YAML's 1 must match a CSV's "1".
            data = {**data, "values": {as_text(k): v for k, v in data["values"].items()}}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> FieldSource:
        given = [k for k in ("column", "constant", "template") if getattr(self, k) is not None]
        if len(given) != 1:
            raise MappingProblem(
                "column", f"give exactly one of column, constant or template, not {given or 0}"
            )
        if self.default is not None and self.values is None:
            raise MappingProblem("default", "only applies with values")
        if self.template is not None:
            if "{" in (bare := _PLACEHOLDER.sub("", self.template)) or "}" in bare:
                raise MappingProblem("template", f"{self.template!r} has an unmatched brace")
            if not _PLACEHOLDER.search(self.template):
                raise MappingProblem("template", "has no {COLUMN}; use a constant")
            if "" in _PLACEHOLDER.findall(self.template):
                raise MappingProblem("template", "has an empty {}")
        return self

    def columns(self) -> tuple[str, ...]:
        """The file's columns this value reads."""
        if self.column is not None:
            return (self.column,)
        if self.template is not None:
            names = _PLACEHOLDER.findall(self.template)
            return tuple(dict.fromkeys(n for n in names if n != ROW_NUMBER))
        return ()


class FieldMap(_Strict):
    """A source for every transaction field but ``event_time`` (which :class:`TimeSource`
    gives); ``device_id`` may be left out."""

    txn_id: FieldSource | None = None
    card_id: FieldSource | None = None
    customer_id: FieldSource | None = None
    merchant_id: FieldSource | None = None
    terminal_id: FieldSource | None = None
    amount: FieldSource | None = None
    currency: FieldSource | None = None
    mcc: FieldSource | None = None
    country: FieldSource | None = None
    channel: FieldSource | None = None
    device_id: FieldSource | None = None

    @model_validator(mode="after")
    def _required(self) -> FieldMap:
        for name in MAPPED_FIELDS:
            if name not in OPTIONAL_FIELDS and getattr(self, name) is None:
                raise MappingProblem(name, "is required: give a column, a constant or a template")
        return self

    def sources(self) -> dict[str, FieldSource]:
        """Each mapped field with its source, in schema order."""
        return {n: s for n in MAPPED_FIELDS if (s := getattr(self, n)) is not None}


class TimeSource(_Strict):
    """A time column and its form; ``*_since`` forms count from ``start``. ``timezone`` (an
    IANA name) places ISO values and a ``start`` written without an offset."""

    column: str
    form: TimeForm
    start: str | None = None
    timezone: str | None = None

    @model_validator(mode="after")
    def _start(self) -> TimeSource:
        since = self.form.endswith("_since")
        if since and self.start is None:
            raise MappingProblem("start", f"is required for the form {self.form}")
        if not since and self.start is not None:
            raise MappingProblem("start", f"does not apply to the form {self.form}")
        if self.timezone is not None:
            try:
                zone(self.timezone)
            except ValueError as exc:
                raise MappingProblem("timezone", str(exc)) from None
        self.start_ms()
        return self

    def start_ms(self) -> int:
        """``start`` in epoch milliseconds (0 for the forms without a start)."""
        if self.start is None:
            return 0
        try:
            return parse_instant(self.start, self.timezone)
        except ValueError as exc:
            raise MappingProblem("start", str(exc)) from None


class LabelSource(_Strict):
    """The fraud label: a ``column`` of the data, or of a separate labels ``file`` (resolved
    beside the data file) whose rows name the transaction by ``txn_id`` (by default the
    mapping's own ``fields.txn_id``). The report time is a rule (``reported_after``) or a
    ``reported_at`` time column."""

    column: str
    file: str | None = None
    txn_id: FieldSource | None = None
    fraud_values: tuple[str, ...]
    legit_values: tuple[str, ...] | None = None
    scenario: FieldSource | None = None
    reported_after: str | None = None
    reported_at: TimeSource | None = None
    source: str = "dataset"
    write_legit: bool = False
    """Also write a label for every legitimate row (a row without a fraud label is counted as
    legitimate anyway, so by default only fraud is written, as the generator does)."""

    @field_validator("fraud_values", "legit_values", mode="before")
    @classmethod
    def _as_texts(cls, value: Any) -> Any:
        if isinstance(value, list):
            return tuple(as_text(v) if isinstance(v, int | float | bool) else v for v in value)
        return value

    @model_validator(mode="after")
    def _one_each(self) -> LabelSource:
        if self.txn_id is not None and self.file is None:
            raise MappingProblem("txn_id", "only applies with a labels file")
        if (self.reported_after is None) == (self.reported_at is None):
            why = "give exactly one of reported_after (a rule such as 7d) or reported_at"
            raise MappingProblem("reported_after", f"{why} (a time column)")
        if not self.fraud_values:
            raise MappingProblem("fraud_values", "is empty: which values mean fraud?")
        if self.reported_after is not None:
            try:
                duration_ms(self.reported_after)
            except ValueError as exc:
                raise MappingProblem("reported_after", str(exc)) from None
        return self


class Mapping(_Strict):
    """A whole mapping file."""

    name: str
    description: str = ""
    ids: Literal["refuse", "replace"] = "refuse"
    fields: FieldMap
    time: TimeSource
    labels: LabelSource | None = None

    def data_columns(self) -> dict[str, str]:
        """Each column the data file must have, with the first mapping key that reads it."""
        keys: dict[str, str] = {}
        for name, source in self.fields.sources().items():
            keys.update({c: f"fields.{name}" for c in source.columns() if c not in keys})
        keys.setdefault(self.time.column, "time.column")
        if self.labels is not None and self.labels.file is None:
            keys.setdefault(self.labels.column, "labels.column")
            keys.update(_label_columns(self.labels, keys))
        return keys

    def label_file_columns(self) -> dict[str, str]:
        """Each column a separate labels file must have, with the key that reads it."""
        if self.labels is None or self.labels.file is None:
            return {}
        txn_id = self.labels.txn_id or self.fields.txn_id
        assert txn_id is not None  # FieldMap requires it
        keys = {c: "labels.txn_id" for c in txn_id.columns()}
        keys.setdefault(self.labels.column, "labels.column")
        return {**keys, **_label_columns(self.labels, keys)}


def _label_columns(labels: LabelSource, seen: dict[str, str]) -> dict[str, str]:
    keys = {c: "labels.scenario" for c in (labels.scenario.columns() if labels.scenario else ())}
    if labels.reported_at is not None:
        keys.setdefault(labels.reported_at.column, "labels.reported_at.column")
    return {c: k for c, k in keys.items() if c not in seen}
