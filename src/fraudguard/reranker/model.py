"""A River logistic regression that re-ranks the base model, learning online from labels.

Its inputs are the base model's logit and a few features (configurable); untrained it has
weight 1 on the logit and 0 elsewhere, so it returns the base score unchanged. Labels arrive
in batches (one poll of the ``labels`` topic); each batch is learnt one example at a time, then
judged by the guard (:mod:`fraudguard.reranker.guard`). An accepted batch makes a new
stable snapshot; a refused one is undone by falling back to the last stable snapshot.

>>> r = Reranker()
>>> abs(r.score(0.2, {"txn_amount_eur": 50.0}) - 0.2) < 1e-12
True
>>> r.version.startswith("rr-0-"), r.snapshot().restore().version == r.version
(True, True)

Design choices (measured with ``bench/reranker_eval.py``):

- **Inputs.** The base logit is clipped to +-``logit_clip`` (12: p from 6e-6 to 1 - 6e-6;
  the score is exactly the base score inside that range). Each feature ``v`` becomes
  ``sign(v) log(1 + |v|)`` (amounts and counts are heavy-tailed), is standardised with a
  *fixed* :class:`FeatureScaling` fitted on a sample of scored transactions, and is clipped
  to +-``feature_clip`` (5). Not River's online ``StandardScaler``: it would learn only from
  labelled rows, whose mix depends on how labels arrive (frauds are reported within days,
  legitimate payments confirmed later); it would change the model outside the parameters the
  guard watches; and scoring must not change state. The fixed scaling is two numbers a
  feature and travels in the snapshot.
- **Gradient clipping: 1.0.** River's ``clip_gradient`` clamps the derivative of the loss with
  respect to the logit, before it is multiplied by the inputs. For an unweighted log loss
  that derivative is ``p - y``, within [-1, 1], so 1.0 is the tightest value that leaves the
  loss's fixed point (a calibrated probability) where it is: a smaller one would cut the
  gradient of every missed fraud and bias the scores of a rare class downwards. It bites if
  examples are ever weighted (class weights in the loss). What bounds a step is clipping the
  *inputs*: one example moves each weight by at most ``lr * clip_gradient * bound`` (bound:
  ``logit_clip`` for the logit's weight, ``feature_clip`` for a feature, 1 for the
  intercept, with the intercept's rate), however large a feature value is.
- **Learning-rate schedules.** River's ``InverseScaling``, t = labels learnt: weights
  ``0.005 / (t + 1)^0.25``, intercept ``0.02 / (t + 1)^0.25``. The intercept carries
  calibration (class weighting shifts a base model's logit by about a constant), so it moves
  four times faster; the weights carry the ranking and move slowly, so the order of scores
  stays stable over a period (one learning rate for both, fast enough to calibrate, cost the
  strong stand-in 0.025 of average precision in the bench). Power 0.25 keeps adapting for
  months (after 100,000 labels the rates are 1/18 of the start); power 0.5 learnt too little
  in the bench, and River's ``Optimal`` decays as 1/t (Bottou's schedule for an
  L2-regularised objective), which all but freezes a model whose job is to follow drift.
- **No L2 by default.** River's L2 pulls every weight towards 0, including the logit's weight,
  i.e. away from the identity the re-ranker starts from; the bounded inputs, the clip, the
  decaying rates and the guard already keep the weights in check.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from river import linear_model, optim

from fraudguard.errors import RerankerError
from fraudguard.features import FEATURE_NAMES
from fraudguard.reranker.guard import GuardConfig, GuardVerdict, LabelWindow, judge

log = logging.getLogger(__name__)

BASE_LOGIT = "base_logit"
"""The input that carries the base model's logit."""
FORMAT_VERSION = 1
"""Version of the snapshot blob layout; a reader refuses any other."""
DEFAULT_FEATURES: tuple[str, ...] = (
    "txn_amount_eur",
    "card_count_1h",
    "card_amount_zscore_30d",
    "card_new_device_30d",
    "merchant_distinct_card_id_1h",
)

Row = tuple[float, Mapping[str, float], bool | int]
"""One labelled example: base probability, features, label (1 or True: fraud)."""


class RerankerConfig(BaseModel):
    """The re-ranker's inputs and learning; saved in every snapshot."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    features: tuple[str, ...] = DEFAULT_FEATURES
    """Feature names (from ``fraudguard.features.FEATURE_NAMES``) beside the base logit."""
    learning_rate: float = Field(default=0.005, gt=0)
    """Initial rate of the weights' ``InverseScaling`` schedule."""
    intercept_learning_rate: float = Field(default=0.02, gt=0)
    """Initial rate of the intercept's schedule (same decay): calibration moves faster than
    ranking."""
    power: float = Field(default=0.25, ge=0)
    """Decay power of both schedules: the rate at t labels is ``initial / (t + 1)^power``
    (0 keeps it constant)."""
    clip_gradient: float = Field(default=1.0, gt=0)
    """River's ``clip_gradient``: bound on the loss derivative with respect to the logit."""
    l2: float = Field(default=0.0, ge=0)
    """River's L2 penalty (pulls every weight, the logit's included, towards 0)."""
    logit_clip: float = Field(default=12.0, gt=0)
    """The base logit is clipped to +-this."""
    feature_clip: float = Field(default=5.0, gt=0)
    """Standardised features are clipped to +-this."""

    @field_validator("features")
    @classmethod
    def _known(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [n for n in names if n not in FEATURE_NAMES]
        if unknown:
            raise ValueError(f"unknown feature {unknown[0]!r} (see `fraudguard features list`)")
        if len(set(names)) != len(names):
            raise ValueError("a feature is listed twice")
        return names

    @property
    def inputs(self) -> tuple[str, ...]:
        """Input names in order: the base logit, then the features."""
        return (BASE_LOGIT, *self.features)


@dataclass(frozen=True, slots=True)
class FeatureScaling:
    """Fixed standardisation of ``sign(v) log(1 + |v|)`` per feature.

    >>> s = FeatureScaling.fit(["card_count_1h"], [{"card_count_1h": v} for v in (0, 1, 3)])
    >>> s.center, [round(x, 3) for x in s.scale]
    ((0.6931471805599453,), [0.566])
    """

    features: tuple[str, ...]
    center: tuple[float, ...]
    scale: tuple[float, ...]

    @classmethod
    def unit(cls, features: Sequence[str]) -> FeatureScaling:
        """No standardisation (centre 0, scale 1): only for tests and examples."""
        return cls(tuple(features), (0.0,) * len(features), (1.0,) * len(features))

    @classmethod
    def fit(cls, features: Sequence[str], sample: Iterable[Mapping[str, float]]) -> FeatureScaling:
        """Mean and standard deviation of each transformed feature over ``sample`` (scored
        transactions, labelled or not); a constant feature gets scale 1."""
        columns: list[list[float]] = [[] for _ in features]
        for row in sample:
            for column, name in zip(columns, features, strict=True):
                v = row.get(name)
                if v is not None and math.isfinite(v):
                    column.append(_signed_log1p(float(v)))
        center, scale = [], []
        for column in columns:
            values = np.asarray(column, dtype=float)
            mean = float(values.mean()) if len(values) else 0.0
            std = float(values.std()) if len(values) else 0.0
            center.append(mean)
            scale.append(std if std > 1e-9 else 1.0)
        return cls(tuple(features), tuple(center), tuple(scale))


@dataclass(frozen=True)
class RerankerSnapshot:
    """A re-ranker's parameters, versioned; ``blob`` is deterministic canonical JSON.

    The version is ``rr-<labels learnt>-<first 6 hex digits of the blob's SHA-256>``, so equal
    parameters give equal versions. ``created_at_ms`` and ``metrics`` describe the snapshot
    and are not part of the blob.
    """

    version: str
    created_at_ms: int
    n_updates: int
    blob: bytes
    metrics: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def of(
        cls, blob: bytes, created_at_ms: int, metrics: Mapping[str, float] | None = None
    ) -> RerankerSnapshot:
        """The snapshot of ``blob``, its version and update count read from the blob."""
        n_updates = int(_load_state(blob)["n_updates"])
        return cls(version_of(blob, n_updates), created_at_ms, n_updates, blob, metrics or {})

    def restore(
        self, guard: GuardConfig | None = None, clock: Callable[[], int] | None = None
    ) -> Reranker:
        """A re-ranker with exactly these parameters, this snapshot as its stable one."""
        return Reranker._from_snapshot(self, guard, clock)


def version_of(blob: bytes, n_updates: int) -> str:
    """``rr-<n_updates>-<hash6>``.

    >>> version_of(b"{}", 7)
    'rr-7-44136f'
    """
    return f"rr-{n_updates}-{hashlib.sha256(blob).hexdigest()[:6]}"


class Reranker:
    """Logistic regression on the base logit and a few features, learning in guarded batches.

    ``score`` never changes state; ``learn_batch`` is the only way labels get in.
    """

    def __init__(
        self,
        config: RerankerConfig | None = None,
        scaling: FeatureScaling | None = None,
        guard: GuardConfig | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.config = config or RerankerConfig()
        self.scaling = scaling or FeatureScaling.unit(self.config.features)
        if self.scaling.features != self.config.features:
            raise RerankerError(
                f"scaling is for {list(self.scaling.features)}, not {list(self.config.features)}"
            )
        self.guard = guard or GuardConfig()
        self._clock = clock or (lambda: int(time.time() * 1000))
        self._inputs = self.config.inputs
        self._model = self._new_model()
        identity = [1.0] + [0.0] * len(self.config.features)
        self._set_params(identity, intercept=0.0, n_updates=0)
        self._window = LabelWindow(self.guard.window, len(self._inputs))
        self._history: deque[RerankerSnapshot] = deque(maxlen=self.guard.history)
        self._history.append(self._snapshot_now({}))

    # Scoring

    def score(self, base_prob: float, features: Mapping[str, float]) -> float:
        """The re-ranked fraud probability of one transaction (features are not modified)."""
        x = dict(zip(self._inputs, self._row(base_prob, features), strict=True))
        return float(self._model.predict_proba_one(x)[True])

    # Learning

    def learn_batch(self, rows: Iterable[Row]) -> GuardVerdict:
        """Learn a batch of labelled examples, then keep it or fall back to the last stable
        snapshot, as the guard decides; the verdict says which and why (and is logged)."""
        rows = list(rows)
        limit = self.guard.max_step * self._rate_ratio()
        if not rows:
            return GuardVerdict(
                True, "empty batch", self.version, 0, 0.0, limit, 0.0, None, None,
                len(self._window),
            )  # fmt: skip
        # Every row is checked before any is learnt: a bad row must not leave half a batch.
        x = np.array([self._row(p, f) for p, f, _ in rows])
        y = np.array([_label(label) for _, _, label in rows], dtype=float)
        before = self._params()
        for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
            self._model.learn_one(dict(zip(self._inputs, xi, strict=True)), bool(yi))
        after = self._params()
        step = float(np.linalg.norm(after - before))
        relative = step / max(float(np.linalg.norm(before)), 1e-12)
        # The window holds the labels of accepted batches before this one: the batch is judged
        # on labels it was not learnt from, which a burst of wrong labels cannot flatter.
        window = self._window
        used = len(window)
        losses = None
        if used >= self.guard.min_window:
            rerank_after, rerank_before = window.log_losses(after, before)
            losses = (rerank_after, window.base_log_loss(), rerank_before)
        refusal = judge(
            self.guard,
            step=step,
            step_limit=limit,
            relative_step=relative,
            losses=losses,
            window=used,
        )
        rerank_loss, base_loss = (losses[0], losses[1]) if losses else (None, None)
        if refusal is None:
            window.extend(x, y)  # a refused batch stays out: its labels are suspect
            metrics = {"window": float(len(window))}
            if rerank_loss is not None and base_loss is not None:
                metrics |= {"rerank_log_loss": rerank_loss, "base_log_loss": base_loss}
            self._history.append(self._snapshot_now(metrics))
            verdict = GuardVerdict(
                True, "ok", self.version, len(rows), step, limit, relative, rerank_loss,
                base_loss, used,
            )  # fmt: skip
            log.info("%s", verdict)
            return verdict
        self._load(self._history[-1].blob)
        verdict = GuardVerdict(
            False, refusal[1], self.version, len(rows), step, limit, relative, rerank_loss,
            base_loss, used, rolled_back_to=self.version,
        )  # fmt: skip
        log.warning("%s", verdict)
        return verdict

    # The guard's window

    @property
    def lineage(self) -> str:
        """What the window's rows depend on (inputs and their scaling): rows from a re-ranker
        of another lineage mean something else and must not be kept."""
        doc = {"inputs": list(self._inputs), "center": list(self.scaling.center),
               "scale": list(self.scaling.scale)}  # fmt: skip
        return hashlib.sha256(json.dumps(doc).encode()).hexdigest()[:16]

    def window_examples(self) -> tuple[np.ndarray, np.ndarray]:
        """The guard window's examples (inputs as learnt, labels 1 for fraud), oldest first."""
        return self._window.examples()

    def keep_window(self, x: np.ndarray, y: np.ndarray) -> None:
        """Take over a window (from a restart's saved state, or the re-ranker this one
        replaces), so the loss check does not start blind. Rows must be of this lineage."""
        if x.ndim != 2 or x.shape[1] != len(self._inputs) or len(x) != len(y):
            raise RerankerError(
                f"window of shape {x.shape} does not fit {len(self._inputs)} inputs"
            )
        self._window.extend(x, y)

    def rollback(self, to: str | None = None) -> RerankerSnapshot:
        """Return to an earlier stable snapshot: version ``to``, or the one before the current.

        Later snapshots are forgotten, so rolling back twice goes back two steps.
        """
        versions = [s.version for s in self._history]
        if to is None:
            if len(versions) < 2:
                raise RerankerError("no earlier stable snapshot to roll back to")
            index = len(versions) - 2
        elif to in versions:
            index = versions.index(to)
        else:
            raise RerankerError(f"unknown or forgotten re-ranker version {to!r}")
        while len(self._history) > index + 1:
            self._history.pop()
        self._load(self._history[-1].blob)
        log.warning("re-ranker rolled back to %s", self.version)
        return self._history[-1]

    # Snapshots and state

    @property
    def version(self) -> str:
        """Version of the parameters in force (always the newest stable snapshot)."""
        return self._history[-1].version

    @property
    def n_updates(self) -> int:
        """Labels learnt by the parameters in force."""
        return int(self._model.optimizer.n_iterations)

    @property
    def learning_rate(self) -> float:
        """The rate the weights will learn the next label with."""
        return float(self._model.optimizer.learning_rate)

    @property
    def intercept_learning_rate(self) -> float:
        """The rate the intercept will learn the next label with."""
        return float(self._model.intercept_lr.get(self.n_updates))

    @property
    def weights(self) -> dict[str, float]:
        """Weight of each input, and the intercept under ``"intercept"``."""
        params = self._params().tolist()
        return dict(zip((*self._inputs, "intercept"), params, strict=True))

    def snapshot(self) -> RerankerSnapshot:
        """The newest stable snapshot, i.e. the parameters in force."""
        return self._history[-1]

    def history(self) -> list[RerankerSnapshot]:
        """The stable snapshots kept to roll back to, oldest first."""
        return list(self._history)

    @classmethod
    def _from_snapshot(
        cls, snapshot: RerankerSnapshot, guard: GuardConfig | None, clock: Callable[[], int] | None
    ) -> Reranker:
        state = _load_state(snapshot.blob)
        if version_of(snapshot.blob, int(state["n_updates"])) != snapshot.version:
            raise RerankerError(f"snapshot {snapshot.version} does not match its blob")
        try:
            config = RerankerConfig.model_validate(state["config"])
            s = state["scaling"]
            scaling = FeatureScaling(
                tuple(s["features"]),
                tuple(float(v) for v in s["center"]),
                tuple(float(v) for v in s["scale"]),
            )
        except (ValidationError, KeyError, TypeError, ValueError) as exc:
            raise RerankerError(f"snapshot {snapshot.version}: invalid settings ({exc})") from None
        reranker = cls(config, scaling, guard, clock)
        reranker._load(snapshot.blob)
        reranker._history.clear()
        reranker._history.append(snapshot)
        return reranker

    def _snapshot_now(self, metrics: Mapping[str, float]) -> RerankerSnapshot:
        blob = self._blob()
        return RerankerSnapshot(
            version_of(blob, self.n_updates), self._clock(), self.n_updates, blob, dict(metrics)
        )

    def _blob(self) -> bytes:
        weights = self.weights
        state: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "config": self.config.model_dump(mode="json"),
            "scaling": {
                "features": list(self.scaling.features),
                "center": list(self.scaling.center),
                "scale": list(self.scaling.scale),
            },
            "intercept": weights.pop("intercept"),
            "weights": weights,
            "n_updates": self.n_updates,
        }
        # Sorted keys, no spaces, shortest round-tripping floats: equal parameters, equal bytes.
        return json.dumps(state, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()

    def _load(self, blob: bytes) -> None:
        state = _load_state(blob)
        weights = state["weights"]
        self._set_params(
            [float(weights[name]) for name in self._inputs],
            float(state["intercept"]),
            int(state["n_updates"]),
        )

    def _rate_ratio(self) -> float:
        """lr(t) / lr(0) at the current schedule position."""
        schedule = self._model.optimizer.lr
        return float(schedule.get(self.n_updates) / schedule.get(0))

    def _new_model(self) -> linear_model.LogisticRegression:
        c = self.config
        return linear_model.LogisticRegression(
            optimizer=optim.SGD(optim.schedulers.InverseScaling(c.learning_rate, c.power)),
            intercept_lr=optim.schedulers.InverseScaling(c.intercept_learning_rate, c.power),
            l2=c.l2,
            clip_gradient=c.clip_gradient,
        )

    def _set_params(self, weights: Sequence[float], intercept: float, n_updates: int) -> None:
        # River has no public way to set individual starting weights (its ``initializer``
        # gives every weight the same value), so they are written into ``_weights``; the
        # schedule position is the optimizer's iteration count.
        model = self._model
        model._weights.clear()
        for name, w in zip(self._inputs, weights, strict=True):
            model._weights[name] = w
        model.intercept = intercept
        model.optimizer.n_iterations = n_updates

    def _params(self) -> np.ndarray:
        weights = self._model._weights
        return np.array([weights.get(name, 0.0) for name in self._inputs] + [self._model.intercept])

    def _row(self, base_prob: float, features: Mapping[str, float]) -> list[float]:
        if not 0.0 <= base_prob <= 1.0:  # also refuses NaN
            raise RerankerError(f"base score must be a probability in [0, 1], not {base_prob!r}")
        c, s = self.config, self.scaling
        row = [_clipped_logit(base_prob, c.logit_clip)]
        for name, center, scale in zip(s.features, s.center, s.scale, strict=True):
            v = features.get(name)
            if v is None or not math.isfinite(v):
                row.append(0.0)  # missing: the centre of the scaling, i.e. no evidence
                continue
            z = (_signed_log1p(float(v)) - center) / scale
            row.append(min(max(z, -c.feature_clip), c.feature_clip))
        return row


def _load_state(blob: bytes) -> dict[str, Any]:
    try:
        state = json.loads(blob)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RerankerError(f"re-ranker snapshot is not JSON ({exc})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION:
        found = state.get("format") if isinstance(state, dict) else None
        raise RerankerError(f"re-ranker snapshot format {found!r}, expected {FORMAT_VERSION}")
    missing = {"config", "scaling", "weights", "intercept", "n_updates"} - set(state)
    if missing:
        raise RerankerError(f"re-ranker snapshot lacks {sorted(missing)[0]!r}")
    return state


def _clipped_logit(p: float, bound: float) -> float:
    if p <= 0.0:
        return -bound
    if p >= 1.0:
        return bound
    return min(max(math.log(p) - math.log1p(-p), -bound), bound)


def _signed_log1p(v: float) -> float:
    return math.copysign(math.log1p(abs(v)), v)


def _label(label: bool | int) -> float:
    if label in (0, 1):  # True and False included
        return float(label)
    raise RerankerError(f"label must be 0/1 or a bool, not {label!r}")
