"""Scenarios: a backtest written down (``replay/scenarios/*.yaml``), so the same experiment runs
again next month, on another machine, or in a colleague's hands.

A scenario names its source (a file, with its mapping and labels, or the generator's own
history by its parameters), the model and tiers, an optional configuration to compare, the
period, the labels' cut-off, the costs and the output folder. Relative paths are read from the
scenario file's folder.

>>> s = scenario_from_yaml('''
... name: tiny
... source: {generate: {seed: 3, cards: 200, merchants: 100, days: 2}}
... period: {from: 2026-01-06}
... costs: {fp_eur: 1.5}
... ''', Path("replay/scenarios/tiny.yaml"))
>>> s.source.generate["days"], s.period.start, s.costs.fp_eur, s.out
(2, '2026-01-06', 1.5, PosixPath('backtests/tiny'))
>>> scenario_from_yaml("name: x\\nsource: {}\\n", Path("x.yaml"))
Traceback (most recent call last):
...
fraudguard.errors.ConfigError: x.yaml: source: give a file or generate parameters, not neither
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from fraudguard.errors import ConfigError
from fraudguard.strict_yaml import parse_yaml
from fraudguard.wire.times import to_ms


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Source(_Strict):
    """Where the payments come from: a file (in its own layout with a mapping), or the
    generator with these parameters (``fraudguard generate``'s fields)."""

    file: Path | None = None
    mapping: Path | None = None
    labels: Path | None = None
    generate: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Source:
        if (self.file is None) == (self.generate is None):
            which = "both" if self.file is not None else "neither"
            raise ValueError(f"give a file or generate parameters, not {which}")
        if self.generate is not None and (self.mapping or self.labels):
            raise ValueError("mapping and labels are for a file; the generator writes our own")
        return self


class Config(_Strict):
    """A model and tiers: ``champion``, ``rules`` or a registry version [default: the
    champion; for the compared configuration, the baseline's model]; a tiers file [default:
    the built-in tiers]."""

    model: str | None = None
    thresholds: Path | None = None
    reranker: str | None = None
    """A re-ranker snapshot published on the control topic: ``current`` (the one in force) or
    its version; None: none, the base score decides."""


class Period(_Strict):
    """The decisions counted, by event time (UTC dates or ISO times); ``to`` is excluded."""

    start: str | None = Field(default=None, alias="from")
    end: str | None = Field(default=None, alias="to")
    labels_known_at: str | None = None
    """The labels' cut-off [default: ``to``]."""

    @field_validator("start", "end", "labels_known_at", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        """YAML reads an unquoted 2026-01-06 as a date: keep the text the CLI takes, and
        refuse what it would refuse."""
        text = value.isoformat() if isinstance(value, date) else value
        if text is not None:
            try:
                to_ms(str(text), "it")
            except ConfigError:
                raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO-8601 time "
                                 "with an offset") from None  # fmt: skip
        return text


class Costs(_Strict):
    fp_eur: float = Field(default=2.0, ge=0)
    """Friction of blocking a legitimate payment, in euro."""
    review_eur: float = Field(default=4.0, ge=0)
    review_minutes: float = Field(default=5.0, gt=0)
    top_k: int = Field(default=100, ge=1)
    """Cards reviewed per day: the k of card precision@k."""


class Scenario(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    description: str = ""
    source: Source
    baseline: Config = Config()
    compare: Config | None = None
    period: Period = Period()
    costs: Costs = Costs()
    out: Path | None = None
    """The output folder [default: ``backtests/NAME``, from where the command runs]."""

    def resolved(self, folder: Path) -> Scenario:
        """The scenario with its relative paths read from ``folder`` and its output set."""

        def at(path: Path | None) -> Path | None:
            return None if path is None or path.is_absolute() else folder / path

        source = self.source.model_copy(update={
            k: at(getattr(self.source, k)) or getattr(self.source, k)
            for k in ("file", "mapping", "labels")
        })  # fmt: skip
        model = self.baseline.model or "champion"
        configs = {
            name: c.model_copy(
                update={"thresholds": at(c.thresholds) or c.thresholds, "model": c.model or model}
            )
            for name, c in (("baseline", self.baseline), ("compare", self.compare))
            if c is not None
        }
        out = self.out if self.out is not None else Path("backtests") / self.name
        return self.model_copy(update={"source": source, **configs, "out": out})


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; a ``ConfigError`` names the file and the key."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the scenario: {exc}") from None
    return scenario_from_yaml(text, path)


def scenario_from_yaml(text: str, path: Path) -> Scenario:
    doc = parse_yaml(text, str(path))
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: a scenario is a YAML mapping of keys, not {doc!r:.40}")
    try:
        scenario = Scenario.model_validate(doc)
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:6]:
            where = ".".join(str(p) for p in error["loc"] if p != "__root__")
            why = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                why = "unknown key"
            problems.append(f"{where or '(document)'}: {why}")
        raise ConfigError(f"{path}: {'; '.join(problems)}") from None
    return scenario.resolved(path.parent)
