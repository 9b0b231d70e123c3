"""Threshold tiers: which decision a score gets, with overrides per segment of transactions.

Every tier has two thresholds: a score below ``review`` is approved, from ``review`` up to
(not including) ``block`` it goes to review, from ``block`` on it is blocked. A tiers object
has a default tier and optional overrides, each for the transactions matching every segment
key it sets (merchant category, amount band in euro, channel). **The first override in order
that matches applies**; when none does, the default tier does.

>>> gambling = Override("gambling", review=0.3, block=0.6, mcc=frozenset({"7995"}))
>>> tiers = ThresholdTiers(version="t1", review=0.5, block=0.8, overrides=(gambling,))
>>> [tiers.decide_segment(s, "5411", "online", 20.0) for s in (0.1, 0.5, 0.8)]
[('approve', 'default'), ('review', 'default'), ('block', 'default')]
>>> tiers.decide_segment(0.6, "7995", "online", 20.0)
('block', 'gambling')
>>> ThresholdTiers(version="bad", review=0.9, block=0.8)
Traceback (most recent call last):
...
fraudguard.errors.ConfigError: thresholds 'bad': block: 0.8 must be above review (0.9)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from fraudguard.errors import ConfigError
from fraudguard.wire.currency import to_eur
from fraudguard.wire.transactions import CHANNELS, Transaction

DECISION_CODES = ("approve", "review", "block")
"""The decisions in the order of their codes in :meth:`ThresholdTiers.decide_columns`."""
DEFAULT_TIER = "default"
"""The tier name a decision records when no override matched (``DecisionRecord.tier``)."""
SEGMENT_KEYS = ("mcc", "channel", "amount_eur")
AMOUNT_FEATURE = "txn_amount_eur"
"""The feature an amount band reads; the same euro amount the features are computed on."""

_NAME = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")  # the schema's id alphabet: safe in logs and keys
_MCC = re.compile(r"[0-9]{4}")


class InvalidField(Exception):
    """Internal: a field of a tiers definition is wrong. Always re-raised as a ``ConfigError``
    that names where the definition came from."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True, slots=True)
class AmountBand:
    """Amounts in euro from ``min`` (included) up to ``max`` (excluded).

    >>> 100.0 in AmountBand(100.0, 500.0), 500.0 in AmountBand(100.0, 500.0)
    (True, False)
    """

    min: float = 0.0
    max: float = math.inf

    def __contains__(self, amount_eur: float) -> bool:
        return self.min <= amount_eur < self.max


@dataclass(frozen=True, slots=True)
class Override:
    """A tier for one segment: the transactions matching every segment key that is set."""

    name: str
    """Recorded as the decision's ``tier``."""
    review: float
    block: float
    mcc: frozenset[str] | None = None
    """Merchant category codes (four digits); ``None`` matches any."""
    channel: str | None = None
    """``card_present`` or ``online``; ``None`` matches either."""
    amount_eur: AmountBand | None = None
    """``None`` matches any amount."""

    def matches(self, mcc: str, channel: str, amount_eur: float) -> bool:
        return (
            (self.mcc is None or mcc in self.mcc)
            and (self.channel is None or channel == self.channel)
            and (self.amount_eur is None or amount_eur in self.amount_eur)
        )


@dataclass(frozen=True, slots=True)
class ThresholdTiers:
    """A versioned set of tiers; invalid values are refused when it is built."""

    version: str
    review: float
    block: float
    overrides: tuple[Override, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        try:
            check_tiers(self.version, self.review, self.block, self.overrides)
        except InvalidField as exc:
            raise ConfigError(f"thresholds {self.version!r}: {exc}") from None

    def decide(
        self, score: float, txn: Transaction, features: Mapping[str, float] | None = None
    ) -> tuple[str, str]:
        """``(decision, tier name)`` for a scored transaction.

        The amount band reads the ``txn_amount_eur`` feature when ``features`` has it, else
        converts the amount the same way the features do.
        """
        amount_eur = features.get(AMOUNT_FEATURE) if features is not None else None
        if amount_eur is None:
            amount_eur = to_eur(txn.amount, txn.currency)
        return self.decide_segment(score, txn.mcc, txn.channel, amount_eur)

    def decide_segment(
        self, score: float, mcc: str, channel: str, amount_eur: float
    ) -> tuple[str, str]:
        """``(decision, tier name)`` for a score in a segment.

        A NaN score (a scorer bug) goes to review: never approved unseen, never blocked on no
        evidence.

        >>> BUILTIN_TIERS.decide_segment(float("nan"), "5411", "online", 1.0)
        ('review', 'default')
        """
        tier, review, block = DEFAULT_TIER, self.review, self.block
        for override in self.overrides:
            if override.matches(mcc, channel, amount_eur):
                tier, review, block = override.name, override.review, override.block
                break
        if score >= block:
            return "block", tier
        if score >= review:
            return "review", tier
        if score != score:
            return "review", tier
        return "approve", tier

    def decide_columns(
        self, scores: np.ndarray, mcc: np.ndarray, channel: np.ndarray, amount_eur: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`decide_segment` over columns at once, for a what-if over a million stored
        decisions: ``(decisions, tiers)`` as codes, the decision an index into
        :data:`DECISION_CODES` and the tier 0 for the default, ``i + 1`` for override ``i``.

        >>> gambling = Override("gambling", review=0.3, block=0.6, mcc=frozenset({"7995"}))
        >>> tiers = ThresholdTiers(version="t1", review=0.5, block=0.8, overrides=(gambling,))
        >>> decisions, tier = tiers.decide_columns(np.array([0.1, 0.6, 0.6, np.nan]),
        ...     np.array(["5411", "5411", "7995", "5411"]), np.array(["online"] * 4),
        ...     np.array([20.0] * 4))
        >>> [DECISION_CODES[d] for d in decisions], tier.tolist()
        (['approve', 'review', 'block', 'review'], [0, 0, 1, 0])
        """
        n = len(scores)
        review = np.full(n, self.review)
        block = np.full(n, self.block)
        tier = np.zeros(n, dtype=np.int16)
        open_rows = np.ones(n, dtype=bool)
        for index, override in enumerate(self.overrides, start=1):
            hit = open_rows.copy()
            if override.mcc is not None:
                hit &= np.isin(mcc, sorted(override.mcc))
            if override.channel is not None:
                hit &= channel == override.channel
            if override.amount_eur is not None:
                band = override.amount_eur
                hit &= (amount_eur >= band.min) & (amount_eur < band.max)
            review[hit], block[hit], tier[hit] = override.review, override.block, index
            open_rows &= ~hit
        decisions = np.where(
            scores >= block, 2, np.where((scores >= review) | np.isnan(scores), 1, 0)
        ).astype(np.int8)
        return decisions, tier

    def tier_names(self) -> tuple[str, ...]:
        """Names of the tier codes :meth:`decide_columns` gives: the default, then overrides."""
        return (DEFAULT_TIER, *(o.name for o in self.overrides))

    def to_dict(self) -> dict[str, object]:
        """The definition as plain data, in the shape of a thresholds file (``max`` omitted when
        unbounded, so it is JSON).

        >>> ThresholdTiers("v", 0.5, 0.8, (Override("web", 0.4, 0.7, channel="online"),)).to_dict()
        {'version': 'v', 'review': 0.5, 'block': 0.8, 'overrides': [{'name': 'web', \
'channel': 'online', 'review': 0.4, 'block': 0.7}]}
        """
        doc: dict[str, object] = {"version": self.version}
        if self.description:
            doc["description"] = self.description
        doc["review"], doc["block"] = self.review, self.block
        if self.overrides:
            doc["overrides"] = [_override_dict(o) for o in self.overrides]
        return doc


def _override_dict(override: Override) -> dict[str, object]:
    doc: dict[str, object] = {"name": override.name}
    if override.mcc is not None:
        doc["mcc"] = sorted(override.mcc)
    if override.channel is not None:
        doc["channel"] = override.channel
    if override.amount_eur is not None:
        band: dict[str, float] = {"min": override.amount_eur.min}
        if override.amount_eur.max != math.inf:
            band["max"] = override.amount_eur.max
        doc["amount_eur"] = band
    doc["review"], doc["block"] = override.review, override.block
    return doc


def check_tiers(version: str, review: float, block: float, overrides: Sequence[Override]) -> None:
    """Raise :class:`InvalidField` for the first invalid field, named by its path
    (``overrides[1].block``)."""
    _check_name("version", version)
    _check_pair("", review, block)
    names: dict[str, int] = {}
    for i, override in enumerate(overrides):
        path = f"overrides[{i}]"
        _check_name(f"{path}.name", override.name)
        if override.name == DEFAULT_TIER:
            raise InvalidField(f"{path}.name", f"{DEFAULT_TIER!r} is the default tier's name")
        if override.name in names:
            raise InvalidField(
                f"{path}.name",
                f"{override.name!r} is already the name of overrides[{names[override.name]}]",
            )
        names[override.name] = i
        _check_segment(path, override)
        _check_pair(f"{path}.", override.review, override.block)
        covering = shadowing(override, overrides[:i])
        if covering:
            raise InvalidField(
                path,
                f"can never apply: every transaction it matches is matched first by "
                f"{', '.join(repr(n) for n in covering)} (the first matching override applies)",
            )


def _check_name(path: str, value: object) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise InvalidField(path, f"{value!r} must be 1-64 of [A-Za-z0-9_.:-]")


def _check_pair(prefix: str, review: float, block: float) -> None:
    for name, value in (("review", review), ("block", block)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise InvalidField(f"{prefix}{name}", f"{value!r} must be a number in [0, 1]")
    if not review < block:
        raise InvalidField(f"{prefix}block", f"{block} must be above review ({review})")


def _check_segment(path: str, override: Override) -> None:
    if override.mcc is None and override.channel is None and override.amount_eur is None:
        raise InvalidField(path, f"sets no segment key ({', '.join(SEGMENT_KEYS)})")
    if override.mcc is not None:
        if not override.mcc:
            raise InvalidField(f"{path}.mcc", "is empty (leave it out to match any category)")
        for code in sorted(override.mcc):
            if not isinstance(code, str) or not _MCC.fullmatch(code):
                raise InvalidField(f"{path}.mcc", f"{code!r} is not a four-digit code")
    if override.channel is not None and override.channel not in CHANNELS:
        raise InvalidField(
            f"{path}.channel", f"{override.channel!r} must be one of {', '.join(sorted(CHANNELS))}"
        )
    band = override.amount_eur
    if band is not None:
        if not (math.isfinite(band.min) and band.min >= 0):
            raise InvalidField(f"{path}.amount_eur.min", f"{band.min} must be a number >= 0")
        if not band.max > band.min:
            raise InvalidField(f"{path}.amount_eur.max", f"{band.max} must be above min")
        if band.min == 0 and band.max == math.inf:
            raise InvalidField(
                f"{path}.amount_eur", "matches every amount (leave it out, or set min or max)"
            )


_OTHER_MCC = ""  # stands for every category no override lists: no list contains ""


def shadowing(override: Override, earlier: Sequence[Override]) -> list[str]:
    """Names of the ``earlier`` overrides that together match every transaction ``override``
    matches (so it would never apply), or ``[]`` when some transaction reaches it.

    Exact, not a heuristic: the override's segment is cut into cells on every boundary the
    earlier overrides draw (each listed category, each band edge, each channel), and every cell
    must be matched by one of them.

    >>> web = Override("web", 0.4, 0.7, channel="online")
    >>> shop = Override("shop", 0.4, 0.7, channel="card_present")
    >>> shadowing(Override("big", 0.6, 0.9, amount_eur=AmountBand(1000.0)), [web, shop])
    ['web', 'shop']
    """
    overlapping = [o for o in earlier if _may_overlap(o, override)]
    if not overlapping:
        return []
    channels = [override.channel] if override.channel is not None else sorted(CHANNELS)
    if override.mcc is not None:
        mccs = sorted(override.mcc)
    else:
        mccs = sorted({c for o in overlapping if o.mcc is not None for c in o.mcc}) + [_OTHER_MCC]
    band = override.amount_eur or AmountBand()
    edges = {band.min}
    for o in overlapping:
        if o.amount_eur is not None:
            edges.update(x for x in (o.amount_eur.min, o.amount_eur.max) if band.min < x < band.max)
    used: set[str] = set()
    # Each cell starts at an edge and no earlier band has an edge inside it, so an earlier
    # band holds the whole cell exactly when it holds the cell's first amount.
    for channel in channels:
        for mcc in mccs:
            for amount in edges:
                hit = next((o for o in overlapping if o.matches(mcc, channel, amount)), None)
                if hit is None:
                    return []
                used.add(hit.name)
    return [o.name for o in overlapping if o.name in used]


def _may_overlap(a: Override, b: Override) -> bool:
    if a.channel is not None and b.channel is not None and a.channel != b.channel:
        return False
    if a.mcc is not None and b.mcc is not None and not a.mcc & b.mcc:
        return False
    if a.amount_eur is not None and b.amount_eur is not None:
        return a.amount_eur.min < b.amount_eur.max and b.amount_eur.min < a.amount_eur.max
    return True


def tiers_at_shares(
    version: str, scores: np.ndarray, stop_share: float, block_share: float
) -> ThresholdTiers:
    """Default-tier thresholds that stop ``stop_share`` of ``scores`` (review or block) and
    block ``block_share`` of them: the tiers re-fitted for a new model on recent traffic when
    it is promoted. A retrained model's scores live on a scale of their own (another class
    balance, other row weights), so the old thresholds would stop another share of payments
    and fill the review queue and the exploration sample with something else; stop shares are
    what the review team is staffed for, and they carry over from one model to the next.

    >>> scores = np.linspace(0.0, 0.5, 1001)
    >>> tiers = tiers_at_shares("t2", scores, stop_share=0.1, block_share=0.02)
    >>> tiers.review, tiers.block
    (0.45, 0.49)
    >>> tiers_at_shares("t3", np.zeros(100), 0.1, 0.02).block > 0.0   # ties: still a band
    True
    """
    if not 0 < block_share < stop_share < 1:
        raise ConfigError(f"need 0 < block share < stop share < 1, not {block_share}, {stop_share}")
    if len(scores) == 0:
        raise ConfigError("no score to fit tiers on")
    review = float(np.quantile(scores, 1 - stop_share))
    block = max(float(np.quantile(scores, 1 - block_share)), float(np.nextafter(review, 1.0)))
    return ThresholdTiers(version=version, review=min(review, 1.0), block=min(block, 1.0))


BUILTIN_TIERS = ThresholdTiers(version="builtin-v1", review=0.5, block=0.8)
"""Used until fraud ops publish tiers from ``thresholds/``."""
