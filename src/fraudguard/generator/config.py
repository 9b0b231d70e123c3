"""What to generate: one frozen model holding every knob of the synthetic payment stream.

>>> config = GeneratorConfig(seed=7, cards=1000, days=2)
>>> config.end_ms - config.start_ms
172800000
>>> GeneratorConfig(days=None).end_ms is None
True
>>> live = config.ending_at(1_795_428_000_000)
>>> live.end_ms
1795428000000
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fraudguard.generator import catalog, geography

SCENARIOS: tuple[str, ...] = (
    "card_testing",
    "compromised_terminal",
    "account_takeover",
    "impossible_travel",
)
"""Fraud scenario names, as written on ground-truth labels."""
DRIFT_SCENARIOS: tuple[str, ...] = ("bust_out",)
"""Fraud patterns that only a :class:`DriftConfig` starts, on its day."""

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)
"""A fixed Monday: the default must not depend on the day, or the same seed would differ."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class DriftConfig(BaseModel):
    """A new fraud pattern that starts on a given day: a bust-out wave, in which a ring opens
    a few web shops of one merchant category in a country the bank's cards never bought
    from, and spends stolen card credentials there with the cardholders' own devices, at
    amounts a little above their usual ones. The models trained before it never saw it.

    >>> DriftConfig(start_day=14).scenario
    'bust_out'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_day: float = Field(ge=0)
    """Days after the stream's start when the first incident may happen (none before)."""
    scenario: Literal["bust_out"] = "bust_out"
    """The pattern's name, as written on its ground-truth labels."""
    mcc: str = "5732"
    """Merchant category of the ring's web shops."""
    country: str = "BR"
    """Where the shops are registered: no card's home, no existing web hub."""
    fraud_rate: float = Field(default=0.002, gt=0, le=0.05)
    """Share of transactions the wave adds, on top of ``fraud_rate``, from its start on."""
    merchants: int = Field(default=3, ge=1, le=100)
    """Web shops the ring opens; they get no legitimate traffic."""

    @field_validator("mcc")
    @classmethod
    def _known_mcc(cls, value: str) -> str:
        if value not in catalog.CODES:
            raise ValueError(f"unknown merchant category {value!r}")
        return value

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if value not in geography.CODES:
            raise ValueError(f"unknown country {value!r}")
        return value


class GeneratorConfig(BaseModel):
    """Parameters of a :class:`~fraudguard.generator.stream.PaymentStream`.

    The same configuration (seed included) always produces the same stream, byte for byte.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 0
    """Seed of every random draw."""
    cards: int = Field(default=5_000, ge=20)
    """Number of cards; customers are about 13% fewer (some hold two cards)."""
    merchants: int = Field(default=1_000, ge=60)
    """Number of merchants, about a fifth of them online-only."""
    start: datetime = DEFAULT_START
    """First instant of the simulated period (UTC if given without an offset)."""
    days: float | None = Field(default=30.0, gt=0)
    """Length of the simulated period; ``None`` for an endless stream."""
    fraud_rate: float = Field(default=0.003, ge=0.0, le=0.05)
    """Share of transactions that are fraudulent (realistically 0.001-0.01)."""
    scenario_mix: dict[str, float] = {
        "card_testing": 0.30,
        "compromised_terminal": 0.30,
        "account_takeover": 0.25,
        "impossible_travel": 0.15,
    }
    """Share of fraudulent transactions per scenario (normalised; missing ones get none)."""
    daily_txns: float = Field(default=2.0, gt=0, le=50)
    """Mean transactions per card and day; each card's own rate varies around it."""
    online_share: float = Field(default=0.3, gt=0, lt=1)
    """Mean share of a card's purchases made online."""
    legit_label_rate: float = Field(default=0.002, ge=0, le=1)
    """Share of legitimate transactions that get a ``legit`` label (cleared investigations)."""
    label_delay_median_days: float = Field(default=5.0, gt=0)
    """Median delay between a fraudulent transaction and its report."""
    max_label_delay_days: float = Field(default=60.0, gt=0)
    """Reports later than this are clipped to it (chargeback deadlines)."""
    txn_id_prefix: str = Field(default="", max_length=40, pattern=r"^[A-Za-z0-9_.:-]*$")
    """Prepended to every transaction id, so separate runs into one topic never share ids."""
    batch_size: int = Field(default=20_000, ge=1)
    """Most transactions per batch yielded by the stream."""
    drift: DriftConfig | None = None
    """A new fraud pattern starting on a given day (off by default); the stream before its
    day is the stream without it, transaction for transaction."""
    amount_scale: float = Field(default=1.0, gt=0, le=100)
    """Every amount multiplied by this: a drifted stream for monitoring (3 shifts the amount
    features far past the alert), 1 for the stream the models learn from."""

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @field_validator("scenario_mix")
    @classmethod
    def _known_scenarios(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(SCENARIOS))
        if unknown:
            raise ValueError(f"unknown scenarios {unknown}; known: {list(SCENARIOS)}")
        if any(w < 0 for w in value.values()) or sum(value.values()) <= 0:
            raise ValueError("scenario weights must be >= 0 with a positive sum")
        return value

    @model_validator(mode="after")
    def _delays(self) -> GeneratorConfig:
        if self.label_delay_median_days >= self.max_label_delay_days:
            raise ValueError("label_delay_median_days must be below max_label_delay_days")
        return self

    @property
    def start_ms(self) -> int:
        return (self.start - _EPOCH) // timedelta(milliseconds=1)

    @property
    def drift_start_ms(self) -> int | None:
        """When the drift's pattern may begin (epoch ms), ``None`` without a drift."""
        if self.drift is None:
            return None
        return self.start_ms + round(self.drift.start_day * 86_400_000)

    @property
    def end_ms(self) -> int | None:
        """End of the simulated period (exclusive), ``None`` for an endless stream."""
        if self.days is None:
            return None
        return self.start_ms + round(self.days * 86_400_000)

    def weights(self) -> dict[str, float]:
        """Scenario shares normalised to sum to 1, in :data:`SCENARIOS` order."""
        total = sum(self.scenario_mix.values())
        return {s: self.scenario_mix.get(s, 0.0) / total for s in SCENARIOS}

    def ending_at(self, now_ms: int) -> GeneratorConfig:
        """The same configuration moved so its period ends at ``now_ms`` (live streams).

        An endless stream keeps no end; it starts ``days`` before ``now_ms`` only if it has a
        length, otherwise at ``now_ms``.
        """
        span = timedelta(days=self.days or 0)
        now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
        return self.model_copy(update={"start": now - span})
