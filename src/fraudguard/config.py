"""The one settings model.

Library code receives a :class:`Settings` instance; only entry points (the CLI, ``jobs/*.py``,
the panel) build one from the environment with :meth:`Settings.from_env`.

>>> s = Settings()
>>> s.kafka.bootstrap_servers
'127.0.0.1:9092'
>>> s.topics.transactions.name
'transactions'
>>> Settings.from_env({"FRAUDGUARD_KAFKA__BOOTSTRAP_PORT": "19092"}).kafka.bootstrap_servers
'127.0.0.1:19092'
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fraudguard.errors import ConfigError

ENV_PREFIX = "FRAUDGUARD_"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KafkaSettings(_Frozen):
    host: str = "127.0.0.1"
    """Loopback only: the local broker never listens on another interface."""
    bootstrap_port: int = 9092
    controller_port: int = 9093
    heap: str = "768m"
    """Broker JVM heap (-Xmx)."""

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.bootstrap_port}"


class TopicSpec(_Frozen):
    name: str
    partitions: int = Field(ge=1)
    retention_ms: int = 7 * 24 * 3600 * 1000
    cleanup_policy: Literal["delete", "compact"] = "delete"


class TopicsSettings(_Frozen):
    transactions: TopicSpec = TopicSpec(
        name="transactions", partitions=6, retention_ms=40 * 86_400_000
    )
    """Key = card id. The record timestamp is the event time: the job's watermarks come from it.
    Six partitions, so up to six source readers: with ``flink.event_time_order`` the feature
    steps order every entity's payments by event time and the features do not depend on the
    number of partitions (decisions/0009). Retention must outlast the 35 days of history
    accepted."""
    decisions: TopicSpec = TopicSpec(name="decisions", partitions=4)
    dlq: TopicSpec = TopicSpec(name="transactions.dlq", partitions=1, retention_ms=30 * 86400000)
    labels: TopicSpec = TopicSpec(name="labels", partitions=1, retention_ms=-1)
    labels_dlq: TopicSpec = TopicSpec(name="labels.dlq", partitions=1, retention_ms=-1)
    """Labels the re-ranker learner could not use, with the reason (kept: labels are rare)."""
    control: TopicSpec = TopicSpec(name="control", partitions=1, retention_ms=-1)
    """One partition: control changes (thresholds, models) must apply in the order issued."""
    reranker_state: TopicSpec = TopicSpec(
        name="reranker.state", partitions=1, retention_ms=-1, cleanup_policy="compact"
    )
    """The re-ranker learner's guard window (its recent accepted labels), key = the labels
    topic; compacted, so the newest state per key is all that is kept."""
    ground_truth: TopicSpec = TopicSpec(
        name="ground_truth", partitions=1, retention_ms=40 * 86_400_000
    )
    """The generator's ground truth, for evaluation and the outcomes service only: nothing
    that trains, decides or computes features reads it. One partition, so that its progress
    marks follow the truth they vouch for; retention as long as the transactions'."""
    outcomes_state: TopicSpec = TopicSpec(
        name="outcomes.state", partitions=1, retention_ms=-1, cleanup_policy="compact"
    )
    """The outcomes service's changelog (labels not yet due, reviews waiting for their day's
    order, unmatched fraud truth, counters), key = entry; compacted, rebuilt at each start."""

    def all(self) -> list[TopicSpec]:
        return [
            self.transactions, self.decisions, self.dlq, self.labels, self.labels_dlq,
            self.control, self.reranker_state, self.ground_truth, self.outcomes_state,
        ]  # fmt: skip


class RedisSettings(_Frozen):
    host: str = "127.0.0.1"
    port: int = 6379
    db: int = 0
    feature_prefix: str = "fg:features"
    """Key prefix of the online feature store (``{prefix}:{entity}:{id}``)."""
    online_store: bool = True
    """Whether the job writes the newest card and merchant features to Redis."""

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/{self.db}"


class PostgresSettings(_Frozen):
    """The local stack's PostgreSQL (``fraudguard stack postgres up``), for the panel's tests."""

    host: str = "127.0.0.1"
    """Loopback only, like Kafka and Redis: the cluster trusts loopback without a password."""
    port: int = Field(default=15432, ge=1, le=65535)
    """Not 5432, where Debian's package starts a cluster of its own, and below the kernel's
    range for outgoing connections (32768-60999), where a client's connection can hold it."""
    database: str = "fraudguard"
    user: str = "fraudguard"

    def url_of(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this server, as ``user``."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of ``database``, which ``stack postgres up`` creates.

        >>> PostgresSettings().url
        'postgresql+psycopg://fraudguard@127.0.0.1:15432/fraudguard'
        """
        return self.url_of(self.database)


LATENCY_PROFILE: dict[str, int | str] = {
    "out_of_orderness_ms": 0,
    "quiet_reader_ms": 20,
    "watermark_interval_ms": 2,
    "batch_delay_ms": 2,
    "bundle_time_ms": 2,
    "buffer_timeout_ms": 2,
    "sink_linger_ms": 0,
    "state_backend": "hashmap",
}
"""The ``latency`` profile's defaults of :class:`FlinkSettings`. The heap state backend: at each
checkpoint RocksDB flushed its memtables on the task threads, and every payment behind them
waited (p99 at 200 tx/s 992 ms with RocksDB, 71 ms on the heap; docs/benchmarks.md)."""


class FlinkSettings(_Frozen):
    parallelism: int = Field(default=2, ge=1)
    """Subtasks of every operator; each takes a share of the ``transactions`` partitions."""
    event_time_order: bool = True
    """Each keyed feature step holds an entity's payments until the watermark passes them and
    applies them in event-time order, so features equal the offline path's whatever the
    interleaving of partitions and subtasks; a payment behind the watermark is applied at once
    and marked late (decisions/0009). False applies them in arrival order, exact only with one
    partition, one subtask and producers that keep order, and saves the wait."""
    out_of_orderness_ms: int = Field(default=200, ge=0)
    """How far a partition's payments may come out of event-time order: its watermark trails
    its newest record timestamp by this much, and every payment waits at least this long."""
    idle_partition_ms: int = Field(default=5_000, ge=1)
    """A partition that sent nothing for this long (while the job took records) stops holding
    the watermark back, and a reader catching up that had no record for this long releases
    what it read. Long, because a reader drains one partition's fetched records before the
    next one's: thousands of payments during a catch-up. An empty partition delays the first
    decisions after a start by this much."""
    quiet_reader_ms: int = Field(default=200, ge=1)
    """When a live source reader (its newest event within ``live_lag_ms`` of the wall clock)
    has had no record for this long, the watermark jumps to the newest event it read and every
    waiting payment is decided: the end of a burst, a quiet night."""
    live_lag_ms: int = Field(default=1_000, ge=0)
    """How far behind the wall clock a reader's newest event may be for it to count as live
    (the clocks of payment systems and job are assumed in sync within this)."""
    watermark_interval_ms: int = Field(default=20, ge=1)
    """How often the watermark moves (Flink's ``pipeline.auto-watermark-interval``): a payment
    waits up to this on top of ``out_of_orderness_ms``."""
    checkpoint_interval_ms: int = Field(default=2000, ge=100)
    """Decisions become visible to read_committed consumers at each checkpoint, so this bounds
    committed latency."""
    execution_mode: Literal["thread", "process"] = "thread"
    python_executable: str = sys.executable
    """PyFlink starts Python workers with this interpreter, never whatever `python` is on PATH."""
    restart_attempts: int = 3
    restart_delay_ms: int = 2000
    remote: str | None = None
    """host:port of a Flink cluster; None runs the embedded mini-cluster."""
    transaction_timeout_ms: int = 600_000
    """Kafka transaction timeout of the exactly-once sink; must stay below the broker's
    transaction.max.timeout.ms (15 min) and above the longest checkpoint plus restart."""
    job_name: str = "fraudguard-scoring"
    """Names the job, its checkpoint folder, its consumer group and its Kafka transactions."""
    bundle_size: int = 1000
    """Elements a Python operator takes per bundle (each element is a batch of ``batch_size``
    records); smaller bundles lower latency."""
    bundle_time_ms: int = 50
    """Longest wait before a partial bundle is processed."""
    dedupe_ttl_ms: int = 24 * 3600 * 1000
    """How long a transaction id is remembered to answer payment-system retries exactly once."""
    batch_size: int = Field(default=200, ge=1)
    """Records packed into one call of a Python operator (validation, decision): PyFlink's
    per-call cost is paid once per batch."""
    batch_delay_ms: int = Field(default=20, ge=1)
    """Longest a record waits for its batch to fill; a batch also leaves at every checkpoint."""
    merchant_state_cache: int = Field(default=10_000, ge=1)
    """Merchants whose feature state the job keeps as objects, written to keyed state when they
    leave this cache and at every checkpoint instead of at every payment."""
    jvm_options: tuple[str, ...] = (
        "-XX:+UseParallelGC",
        "-XX:Tier4InvocationThreshold=20000",
        "-XX:Tier4MinInvocationThreshold=3000",
        "-XX:Tier4CompileThreshold=60000",
        "-XX:Tier4BackEdgeThreshold=160000",
    )
    """Options for the JVM of the local job (the mini-cluster runs in it; a remote cluster
    takes its own from ``env.java.opts.taskmanager``). The parallel collector cost about 6%
    less CPU per decision than the default G1 on the bench (docs/benchmarks.md); young pauses
    stay near 5 to 15 ms. The ``Tier4`` options ask four to five times the JVM's default
    calls and loops (5,000 calls, 40,000 loop turns) before C2 optimises a method: its compiler
    thread took 40 to 50% of a core through the bench job's first 20 s, most of it on the
    Kafka client and Flink's runtime, whose lukewarm code then waited in C1. Per-record code
    still reaches C2, after about 20,000 calls (two seconds of a busy job). A fresh JVM on the
    bench's 300,000 backlog (as a job restarted after a crash catches up) decided about 6% more
    a second; on a 900,000 backlog, mostly warm, as many as before (docs/benchmarks.md). A
    ``JVM_ARGS`` in the environment is appended; set this to ``[]`` before naming another
    collector there, since the JVM refuses two."""
    buffer_timeout_ms: int = Field(default=100, ge=0)
    """Longest a record waits in a network buffer between two operators (Flink's
    ``execution.buffer-timeout.interval``); 0 sends every record at once. A payment crosses
    three such exchanges (card, merchant and device steps)."""
    sink_linger_ms: int = Field(default=5, ge=0)
    """How long the decisions' Kafka producer waits to fill a batch before sending it."""
    profile: Literal["throughput", "latency"] = "throughput"
    """A set of defaults for the waiting above: ``latency`` shortens every timer a payment
    waits on (micro-batches, Python bundles, network buffers, the sink's linger) to a few ms
    and keeps state on the heap, for card authorisation; ``throughput`` keeps the longer ones
    and RocksDB, for a backlog and state larger than memory. Values set
    explicitly win over the profile's (see ``LATENCY_PROFILE`` and docs/operations.md)."""
    state_backend: Literal["hashmap", "rocksdb"] = "rocksdb"
    """Where keyed state lives. ``rocksdb`` (the default) keeps it serialised on local disk,
    bounded by disk rather than heap, and checkpoints incrementally (only what changed).
    ``hashmap`` keeps objects on the heap (about ten times their serialised size) and writes
    all of them at every checkpoint, so it slows down as state grows; on the bench's small state
    it is faster (see docs/benchmarks.md, memory)."""

    @model_validator(mode="after")
    def _profile_defaults(self) -> FlinkSettings:
        """The profile's values for the fields not given (they stay unset, so that
        :meth:`with_profile` can change them again).

        >>> FlinkSettings(profile="latency").batch_delay_ms
        2
        >>> FlinkSettings(profile="latency", batch_delay_ms=7).batch_delay_ms
        7
        >>> FlinkSettings().batch_delay_ms
        20
        """
        if self.profile == "latency":
            for name, value in LATENCY_PROFILE.items():
                if name not in self.model_fields_set:
                    object.__setattr__(self, name, value)  # frozen: only while validating
        return self

    def with_profile(self, profile: Literal["throughput", "latency"]) -> FlinkSettings:
        """These settings under ``profile``: what was set explicitly stays.

        >>> FlinkSettings(checkpoint_interval_ms=500).with_profile("latency").bundle_time_ms
        2
        """
        return FlinkSettings.model_validate(
            {**self.model_dump(exclude_unset=True), "profile": profile}
        )


class ClusterSettings(_Frozen):
    """The local Flink session cluster (``fraudguard cluster up``): one JobManager and one
    TaskManager from the Flink distribution the pinned PyFlink ships, on loopback, with its
    configuration, logs and pid files under the home (docs/operations.md, on a Flink cluster)."""

    name: str = "local"
    """Names the cluster's folders under the home (``flink/cluster/<name>``,
    ``logs/flink-cluster/<name>``), so a test can run a cluster of its own beside this one."""
    host: str = "127.0.0.1"
    """Loopback only: every port of the JobManager and the TaskManager binds here."""
    rest_port: int = Field(default=8081, ge=1, le=65535)
    """The JobManager's REST API and web UI; ``job submit`` and ``cluster status`` use it."""
    rpc_port: int = Field(default=6123, ge=1, le=65535)
    """The JobManager's RPC port, where the TaskManager registers."""
    slots: int = Field(default=2, ge=1)
    """Task slots of the TaskManager: ``flink.parallelism`` must fit in them."""
    jobmanager_memory: str = "1024m"
    taskmanager_memory: str = "4096m"
    """Total process memory of the TaskManager (``taskmanager.memory.process.size``); the job's
    embedded Python interpreters live in it too, outside Flink's accounting."""
    heartbeat_interval_ms: int = Field(default=2_000, ge=100)
    """How often the JobManager asks the TaskManager whether it lives: a killed TaskManager is
    noticed after two failed asks (Flink's ``heartbeat.rpc-failure-threshold``), about 4 s
    instead of Flink's default 20 s, and the job restarts that much sooner."""
    heartbeat_timeout_ms: int = Field(default=30_000, ge=1_000)
    """A TaskManager silent this long (alive but stalled) is given up."""
    metrics_port: int | None = Field(default=9250, ge=1, le=65534)
    """The TaskManager's Prometheus reporter (the job's metrics), the JobManager's on the next
    port (checkpoints, restarts); None starts no reporter."""
    start_timeout_s: float = Field(default=120.0, gt=0)
    """Longest ``cluster up`` waits for the JobManager's REST API and a registered TaskManager."""

    @property
    def rest_url(self) -> str:
        """
        >>> ClusterSettings().rest_url
        'http://127.0.0.1:8081'
        """
        return f"http://{self.host}:{self.rest_port}"


class MetricsSettings(_Frozen):
    """The local job's Prometheus endpoint: Flink's Prometheus reporter, serving Flink's own
    metrics and the job's (docs/operations.md, metrics). A job on a Flink cluster reports
    through the cluster's reporter instead (``deploy/flink/config.yaml``)."""

    enabled: bool = True
    """Whether the local job starts the reporter."""
    host: str = "127.0.0.1"
    """Loopback only, like Kafka and Redis: a Prometheus elsewhere scrapes through a proxy."""
    port: int = Field(default=9249, ge=0, le=65535)
    """The reporter's usual port. 0: any free port, chosen at each start and written to the
    job's ``settings.json``, where ``fraudguard stack status`` finds it (tests, benchmarks and
    replays run their jobs so, beside the production job)."""


class ValidationSettings(_Frozen):
    max_future_ms: int = 5 * 60_000
    """A transaction stamped further ahead of the job clock than this is refused."""
    max_age_ms: int | None = 35 * 86_400_000
    """A transaction older than this is refused (None disables the check)."""
    clock: Literal["wall", "event"] = "wall"
    """The job clock the two checks read. ``wall``: the machine's time, as payments arrive
    live. ``event``: the newest event time the job has met, for a replay of history at any
    speed; nothing is ahead of it, and a transaction is stale when older than ``max_age_ms``
    before it."""


class BacktestSettings(_Frozen):
    jvm_heap_mb: int = Field(default=1024, ge=128)
    """The offline backtest's JVM heap (-Xmx; half of it young, -Xmn). Its live data is the
    entities' states, about 222 MB for 20,000 cards, 2,000 merchants and 27,000 devices over 60
    days: raise it for a history of many more. Capped, the 1,000,000-transaction bench ran in
    850 MB instead of 1.7 GB, and 4 to 24% faster back to back (fewer, cheaper collections)."""


class GateSettings(_Frozen):
    """When a shadow challenger may replace the champion, and when a new champion goes back
    (:mod:`fraudguard.models.gates`)."""

    promotion_margin: float = Field(default=0.01, ge=0)
    """Average precision the challenger must gain on the unbiased (explored) sample."""
    min_explored_labelled: int = Field(default=30, ge=1)
    """Labelled explored decisions needed before the unbiased sample counts."""
    max_score_psi: float = Field(default=0.25, ge=0)
    """Most the challenger's score distribution may differ from the champion's (PSI)."""
    max_cost_ratio: float = Field(default=1.5, gt=0)
    """Most tree nodes the challenger may walk per payment, as a multiple of the champion's."""
    watch_hours: float = Field(default=24.0, gt=0)
    """A champion promoted less than this long ago may be rolled back automatically."""
    rate_band_factor: float = Field(default=2.0, gt=1)
    """A block or review rate outside [expected / f, expected x f] rolls a new champion back."""
    min_decisions: int = Field(default=1_000, ge=1)
    """Decisions of a new champion needed before its rates are judged."""
    max_degraded_share: float = Field(default=0.01, ge=0, le=1)


class GovernorSettings(_Frozen):
    """The model governor as a service (``fraudguard governor run``): how often it applies the
    gates, and how much of the ``decisions`` topic it judges by (docs/model-lifecycle.md)."""

    interval_s: float = Field(default=60.0, gt=0)
    """A round (read what is new, apply the gates, act) at most this often."""
    window_hours: float = Field(default=168.0, gt=0)
    """The committed decisions whose event time is at most this old are judged; older ones
    are dropped. It must cover a new champion's watch (``gates.watch_hours``) and the shadow
    period before its promotion that sets its expected rates; the default, a week, is the
    ``decisions`` topic's retention, so longer reads nothing more."""
    max_decisions: int = Field(default=200_000, ge=1_000)
    """At most the newest this many decisions of the window are held (about 500 bytes each:
    some 100 MB); a window at a higher rate is cut to its newest part."""


class ExplorationSettings(_Frozen):
    """The share of would-be reviews and blocks released for unbiased labels, and its caps."""

    share: float = Field(default=0.01, ge=0.0, le=0.2)
    seed: int = Field(default=20261123, ge=0)
    max_count_per_window: int = Field(default=50, ge=0)
    max_amount_eur_per_window: float = Field(default=5_000.0, ge=0.0)
    window_ms: int = Field(default=3_600_000, gt=0)


class OutcomesServiceSettings(_Frozen):
    """The streaming outcomes service (``fraudguard outcomes run``): how it reads, waits and
    commits (docs/training.md, outcomes as a service)."""

    round_s: float = Field(default=1.0, gt=0)
    """One Kafka transaction (labels, changelog and input offsets) at most this often: a label
    reaches ``labels`` this long after the stream's clock made it due, at most."""
    round_records: int = Field(default=5_000, ge=1)
    """Most decisions read per round."""
    truth_wait_s: float = Field(default=60.0, gt=0)
    """How long a decision waits (wall time) for the ground truth's progress mark to pass its
    event time; after that it is counted ``no_truth`` and gets no label (the generator was not
    sending its truth, or the payment was not generated)."""
    review_order_window_s: float = Field(default=600.0, ge=0)
    """Reviews wait until the stream's clock is this far past them before they take the day's
    review capacity, in event-time order as the file path gives it; decisions out of order by
    more than this are counted ``late_reviews``. Below the shortest verdict delay, it delays
    none."""
    truth_ttl_hours: float = Field(default=24.0, gt=0)
    """Fraud truth whose decision has not come when the stream's clock is this far past it is
    counted ``truth_unmatched`` (its payment was refused or never decided) and forgotten."""


class OutcomesSettings(_Frozen):
    """What a bank learns of its decisions, and when (``fraudguard outcomes``): the simulation
    that turns the generator's ground truth into the labels a bank would have."""

    seed: int = Field(default=20261219, ge=0)
    """Seed of every outcome draw (delays, verdict errors): each is a keyed hash of the
    transaction id and this seed, so the same decisions always give the same labels."""
    chargeback_median_days: float = Field(default=20.0, gt=0)
    """Median delay from an approved fraudulent payment to its chargeback (log-normal)."""
    chargeback_sigma: float = Field(default=0.5, ge=0)
    """Log-scale spread of the chargeback delay."""
    chargeback_min_days: float = Field(default=2.0, ge=0)
    """No cardholder disputes faster than their statement shows the payment."""
    chargeback_max_days: float = Field(default=120.0, gt=0)
    """The scheme's dispute deadline: later chargebacks are clipped to it."""
    review_capacity_per_day: int = Field(default=200, ge=0)
    """Reviews the investigators close per UTC day of the decision, first come first served
    in event-time order; the day's reviews beyond it never get a verdict."""
    review_delay_min_hours: float = Field(default=1.0, ge=0)
    review_delay_max_hours: float = Field(default=48.0, gt=0)
    """A verdict comes uniformly between the minimum and this after the payment."""
    review_error_rate: float = Field(default=0.02, ge=0.0, le=0.5)
    """Share of verdicts that are wrong (a fraud cleared, a legitimate payment confirmed)."""
    label_window_days: float = Field(default=60.0, gt=0)
    """An approved payment without a label this long after it counts as legitimate in
    training; younger unlabelled approvals are not known either way."""
    service: OutcomesServiceSettings = OutcomesServiceSettings()

    @model_validator(mode="after")
    def _ordered(self) -> OutcomesSettings:
        if not self.chargeback_min_days <= self.chargeback_median_days <= self.chargeback_max_days:
            raise ValueError("chargeback delays must satisfy min <= median <= max")
        if self.review_delay_min_hours > self.review_delay_max_hours:
            raise ValueError("review_delay_min_hours must not exceed review_delay_max_hours")
        return self


class PanelSettings(_Frozen):
    """The fraud-ops panel: where it listens, its database, and its working assumptions."""

    host: str = "127.0.0.1"
    """Loopback by default: put a TLS-terminating proxy in front to reach it from elsewhere."""
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: str | None = None
    """SQLAlchemy URL of the panel's database; None: SQLite at ``home/panel/panel.db``. A
    PostgreSQL URL (``postgresql+psycopg://user@host/db``) for anything shared."""
    retention_days: int = Field(default=30, ge=1)
    """Stored decisions older than this (by event time) are deleted by the ingester."""
    review_minutes_per_case: float = Field(default=5.0, gt=0)
    """What one review costs an analyst; the what-if turns review counts into hours."""
    whatif_days: int = Field(default=7, ge=1, le=90)
    """The what-if's default period: the stored decisions of the last this many days."""
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    """A login lasts this long (a working shift), then the analyst signs in again."""
    secure_cookies: bool = False
    """Mark cookies Secure (HTTPS only); set it wherever the panel is served over TLS."""
    login_attempts: int = Field(default=5, ge=1)
    """Failed logins allowed per user name and per client address in ``login_window_s``."""
    login_window_s: int = Field(default=900, ge=1)
    ingest_batch: int = Field(default=2_000, ge=1)
    """Records per ingest transaction: one database transaction holds the rows and offsets."""
    case_priority: Literal["expected_loss", "score", "amount_eur"] = "expected_loss"
    """How the review queue is ordered: expected loss (score times amount in euro), the score,
    or the amount."""
    case_sla_hours: float = Field(default=24.0, gt=0)
    """A review case should be closed this long after its payment was decided."""
    guideline_version: str = "review-guidelines-v1"
    """The review guidelines analysts decide by, recorded on every label they give."""


class Settings(_Frozen):
    home: Path = PROJECT_ROOT / ".fraudguard"
    """The one git-ignored folder holding downloaded jars, service data, logs and checkpoints."""
    project_root: Path = PROJECT_ROOT
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicsSettings = TopicsSettings()
    redis: RedisSettings = RedisSettings()
    postgres: PostgresSettings = PostgresSettings()
    flink: FlinkSettings = FlinkSettings()
    cluster: ClusterSettings = ClusterSettings()
    metrics: MetricsSettings = MetricsSettings()
    validation: ValidationSettings = ValidationSettings()
    exploration: ExplorationSettings = ExplorationSettings()
    gates: GateSettings = GateSettings()
    governor: GovernorSettings = GovernorSettings()
    backtest: BacktestSettings = BacktestSettings()
    outcomes: OutcomesSettings = OutcomesSettings()
    panel: PanelSettings = PanelSettings()
    models_root: Path | None = None
    """Where the model registry lives; None: ``home/models``."""

    @property
    def job_dir(self) -> Path:
        return self.home / "jobs" / self.flink.job_name

    @property
    def lib_dir(self) -> Path:
        return self.home / "lib"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def checkpoint_dir(self) -> Path:
        return self.home / "flink" / "checkpoints"

    @property
    def savepoint_dir(self) -> Path:
        """Savepoints of cluster jobs (``job stop``, ``job upgrade``), one folder per job name."""
        return self.home / "flink" / "savepoints"

    @property
    def models_dir(self) -> Path:
        """The model registry: one folder per trained model and the champion pointer."""
        return self.models_root or self.home / "models"

    @property
    def panel_database_url(self) -> str:
        """The panel's database: ``panel.database_url``, else SQLite under ``home``."""
        return self.panel.database_url or f"sqlite:///{self.home / 'panel' / 'panel.db'}"

    def isolated(self, suffix: str, job_prefix: str = "fraudguard") -> Settings:
        """These settings with topics, a job name, a feature-store prefix and a metrics port
        of their own (any free one), so a test or a benchmark run never sees another's
        records, offsets, checkpoints or metrics.

        >>> run = Settings().isolated("x1", job_prefix="fraudguard-bench")
        >>> run.topics.decisions.name, run.flink.job_name, run.redis.feature_prefix
        ('decisions-x1', 'fraudguard-bench-x1', 'fg:x1')
        >>> run.metrics.port
        0
        """
        topics = TopicsSettings(
            **{
                field: spec.model_copy(update={"name": f"{spec.name}-{suffix}"})
                for field, spec in (
                    (f, getattr(self.topics, f)) for f in TopicsSettings.model_fields
                )
            }
        )
        flink = self.flink.model_copy(update={"job_name": f"{job_prefix}-{suffix}"})
        redis = self.redis.model_copy(update={"feature_prefix": f"fg:{suffix}"})
        metrics = self.metrics.model_copy(update={"port": 0})
        return self.model_copy(
            update={"topics": topics, "flink": flink, "redis": redis, "metrics": metrics}
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from ``FRAUDGUARD_*`` variables; ``__`` separates nesting levels.

        Only entry points call this: everything below them gets the instance.
        """
        tree: dict[str, Any] = {}
        for key, value in environ.items():
            if not key.startswith(ENV_PREFIX):
                continue
            path = key[len(ENV_PREFIX) :].lower().split("__")
            node = tree
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value
        try:
            return cls.model_validate(tree)
        except ValidationError as exc:
            raise ConfigError(f"invalid FRAUDGUARD_* environment: {exc}") from exc
