"""The stream as a whole: reproducible, ordered, valid on the wire, with realistic rhythm."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime

import numpy as np
import orjson
import pytest

from fraudguard.generator import SCENARIOS, GeneratorConfig, PaymentStream
from fraudguard.generator.geography import COUNTRIES
from fraudguard.wire.transactions import CURRENCIES, parse_transaction

SMALL = GeneratorConfig(seed=5, cards=400, merchants=120, days=5)


def _bytes(config: GeneratorConfig) -> bytes:
    stream = PaymentStream(config)
    rows = [value for batch in stream.batches() for value in batch.encoded()]
    labels = [orjson.dumps(lab.to_dict()) for b in stream.batches() for lab in b.labels]
    return b"\n".join(rows + labels)


def test_same_seed_same_bytes_and_other_seed_differs():
    assert _bytes(SMALL) == _bytes(SMALL)
    assert _bytes(SMALL) != _bytes(SMALL.model_copy(update={"seed": 6}))


def test_iterating_twice_gives_the_same_stream():
    stream = PaymentStream(SMALL)
    first = [t.to_wire() for t in itertools.islice(stream.transactions(), 500)]
    second = [t.to_wire() for t in itertools.islice(stream.transactions(), 500)]
    assert first == second


def test_event_time_order_and_unique_ids(month):
    frame = month.frame
    assert (np.diff(frame.ts.to_numpy()) >= 0).all()
    assert frame.txn_id.is_unique
    assert frame.txn_id.is_monotonic_increasing  # ids are numbered in event-time order
    assert frame.ts.min() >= month.config.start_ms
    assert frame.ts.max() < month.config.end_ms


def test_every_transaction_passes_the_wire_parser(month):
    for batch in month.batches:
        wire = batch.wire_dicts()
        for i, value in enumerate(batch.encoded()):
            txn = parse_transaction(value, now_ms=None)
            assert txn.ts_ms == batch.ts_ms[i]
            if i % 50 == 0 or batch.scenario[i]:  # to_wire() is slow; check a sample + all fraud
                assert txn.to_wire() == wire[i]  # the fast encoding is exactly to_wire()


def test_batches_respect_the_batch_size():
    config = SMALL.model_copy(update={"batch_size": 300})
    sizes = [len(b) for b in PaymentStream(config).batches()]
    assert max(sizes) == 300


def test_currency_follows_the_merchant_country(month):
    currency_of = {c.code: c.currency for c in COUNTRIES}
    frame = month.frame
    assert (frame.currency == frame.country.map(currency_of)).all()
    assert set(frame.currency) <= CURRENCIES
    assert frame.currency.value_counts(normalize=True)["EUR"] > 0.5


def test_fraud_rate_is_close_to_the_configured_one(month):
    rate = (month.frame.scenario != "none").mean()
    assert rate == pytest.approx(month.config.fraud_rate, rel=0.12)


@pytest.mark.parametrize("fraud_rate", [0.001, 0.01])
def test_fraud_rate_follows_the_setting(fraud_rate):
    config = GeneratorConfig(seed=2, cards=2_000, merchants=300, days=21, fraud_rate=fraud_rate)
    scenario = np.concatenate([b.scenario for b in PaymentStream(config).batches()])
    assert (scenario != 0).mean() == pytest.approx(fraud_rate, rel=0.2)


def test_every_scenario_gets_roughly_its_share(month, fraud_frame):
    share = fraud_frame.scenario.value_counts(normalize=True)
    for name, weight in month.config.weights().items():
        assert share[name] == pytest.approx(weight, abs=0.08), name
    assert set(share.index) == set(SCENARIOS)


def test_no_fraud_when_the_rate_is_zero():
    config = SMALL.model_copy(update={"fraud_rate": 0.0})
    assert all(not b.scenario.any() for b in PaymentStream(config).batches())


def test_daily_cycle_quiet_nights_busy_days(month):
    # Cardholders live around UTC+0..+1: 02:00-05:00 UTC is night, 10:00-13:00 is midday.
    hour = (month.frame.ts // 3_600_000) % 24
    night, midday = hour.between(2, 4).mean(), hour.between(10, 12).mean()
    assert night < midday / 5


def test_weekly_cycle_sunday_is_quieter_than_saturday(month):
    weekday = month.frame.ts.map(lambda ms: datetime.fromtimestamp(ms / 1000, UTC).weekday())
    counts = weekday.value_counts()
    assert counts[6] < 0.85 * counts[5]


def test_cards_have_their_own_habits(month):
    legit = month.frame[month.frame.scenario == "none"]
    per_card = legit.groupby("card_id").size()
    assert per_card.mean() / 28 == pytest.approx(month.config.daily_txns, rel=0.25)
    assert per_card.std() > 0.4 * per_card.mean()  # activity varies between cards
    # Most of a card's in-store spending goes to a few favourite shops.
    shops = legit[legit.channel == "card_present"]
    top3 = shops.groupby("card_id").merchant_id.agg(
        lambda m: m.value_counts().iloc[:3].sum() / len(m)
    )
    assert top3[shops.groupby("card_id").size() >= 20].median() > 0.5
    # Online purchases come from one or two devices per card.
    online = legit[legit.channel == "online"]
    devices = online.groupby("card_id").device_id.nunique()
    assert devices.quantile(0.9) <= 3
    assert online.device_id.notna().all()
    assert legit[legit.channel == "card_present"].device_id.isna().all()


def test_population_size_follows_the_config(month):
    frame = month.frame
    assert frame.card_id.nunique() == pytest.approx(month.config.cards, rel=0.02)
    assert frame.merchant_id.nunique() <= month.config.merchants
    assert frame.customer_id.nunique() < frame.card_id.nunique()
    terminals = frame.groupby("merchant_id").terminal_id.nunique()
    assert terminals.max() <= 5


def test_endless_stream_keeps_going():
    config = SMALL.model_copy(update={"days": None, "batch_size": 5_000})
    batches = list(itertools.islice(PaymentStream(config).batches(), 12))
    span_days = (batches[-1].ts_ms[-1] - batches[0].ts_ms[0]) / 86_400_000
    assert span_days > 5


def test_generation_is_fast_enough_for_the_benchmark():
    # Generating and encoding must outrun Kafka (>10k tx/s) several times over.
    config = GeneratorConfig(seed=1, cards=5_000, days=10)
    started = time.perf_counter()
    count = sum(len(batch.encoded()) for batch in PaymentStream(config).batches())
    rate = count / (time.perf_counter() - started)
    assert rate > 50_000, f"{rate:,.0f} tx/s"


def test_amount_scale_multiplies_every_amount_and_nothing_else() -> None:
    from fraudguard.generator import GeneratorConfig, PaymentStream

    base = GeneratorConfig(seed=4, cards=200, merchants=60, days=1)
    plain = list(PaymentStream(base).transactions())
    scaled = list(PaymentStream(base.model_copy(update={"amount_scale": 3.0})).transactions())
    assert [t.txn_id for t in plain] == [t.txn_id for t in scaled]
    assert all(
        abs(s.amount - 3 * p.amount) <= 0.01 * max(1.0, p.amount)
        for p, s in zip(plain, scaled, strict=True)
    )
    assert [t.card_id for t in plain] == [t.card_id for t in scaled]
