"""Each fraud scenario leaves the signature it is named after."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fraudguard.generator.geography import distance_km, index_of

MINUTE_MS = 60_000
DAY_MS = 86_400_000


def _incidents(frame: pd.DataFrame, scenario: str) -> list[pd.DataFrame]:
    # A card is hit at most once per 60 days, so card = incident within four weeks.
    return [group for _, group in frame[frame.scenario == scenario].groupby("card_id")]


def test_card_testing_is_a_burst_of_small_amounts_across_merchants(fraud_frame):
    incidents = _incidents(fraud_frame, "card_testing")
    assert len(incidents) >= 5
    for txns in incidents:
        tests = txns[txns.amount_eur < 10]
        assert len(tests) >= 5
        assert (tests.ts.max() - tests.ts.min()) < 60 * MINUTE_MS
        assert len(txns) - len(tests) <= 1  # at most one large purchase after the test
    tests = pd.concat(incidents)
    tests = tests[tests.amount_eur < 10]
    assert tests.amount_eur.median() < 3
    assert (tests.channel == "online").mean() > 0.75
    online = tests[tests.channel == "online"]
    assert online.groupby("card_id").merchant_id.nunique().median() >= 4


def test_impossible_travel_pays_far_away_minutes_after_the_real_card(month):
    frame = month.frame
    present = frame[frame.channel == "card_present"]
    incidents = _incidents(frame, "impossible_travel")
    assert len(incidents) >= 5
    for txns in incidents:
        first = txns.iloc[0]
        before = present[(present.card_id == first.card_id) & (present.ts < first.ts)]
        real = before.iloc[-1]
        assert real.scenario == "none"
        assert real.country != first.country
        km = float(distance_km(index_of(real.country), index_of(first.country)))
        elapsed_h = (first.ts - real.ts) / 3_600_000
        assert elapsed_h < 3
        assert km / elapsed_h > 1_000  # faster than any airliner


def test_account_takeover_is_online_from_a_new_device_with_big_amounts(month):
    frame = month.frame
    legit = frame[frame.scenario == "none"]
    incidents = _incidents(frame, "account_takeover")
    assert len(incidents) >= 5
    for txns in incidents:
        assert (txns.channel == "online").all()
        assert txns.device_id.nunique() == 1
        history = legit[(legit.card_id == txns.card_id.iloc[0]) & (legit.ts < txns.ts.min())]
        assert txns.device_id.iloc[0] not in set(history.device_id.dropna())
        if len(history) >= 10:
            assert txns.amount_eur.median() > 3 * history.amount_eur.median()
        assert txns.ts.max() - txns.ts.min() < DAY_MS


def test_compromised_terminal_cards_share_a_terminal_before_fraud_elsewhere(month):
    frame = month.frame
    present = frame[(frame.channel == "card_present") & (frame.scenario == "none")]
    incidents = _incidents(frame, "compromised_terminal")
    assert len(incidents) >= 10
    visited: dict[str, set[str]] = {}
    fraud_terminals: dict[str, set[str]] = {}
    for txns in incidents:
        card = txns.card_id.iloc[0]
        before = present[(present.card_id == card) & (present.ts < txns.ts.min() - DAY_MS)]
        visited[card] = set(before.terminal_id)
        fraud_terminals[card] = set(txns.terminal_id)
    # A common point of compromise: most victims used a terminal that other victims used too.
    usage: dict[str, int] = {}
    for terminals in visited.values():
        for terminal in terminals:
            usage[terminal] = usage.get(terminal, 0) + 1
    shared = [card for card, terminals in visited.items() if any(usage[t] >= 3 for t in terminals)]
    assert len(shared) >= 0.8 * len(visited)
    # ... and the copies are spent elsewhere: never at the terminal most victims share.
    skimmer = max(usage, key=usage.__getitem__)
    assert usage[skimmer] >= 0.2 * len(visited)
    assert not any(skimmer in terminals for terminals in fraud_terminals.values())


def test_legitimate_traffic_has_no_impossible_travel_of_its_own(month):
    frame = month.frame
    fraud_cards = set(frame.card_id[frame.scenario != "none"])
    present = frame[(frame.channel == "card_present") & ~frame.card_id.isin(fraud_cards)]
    present = present.sort_values(["card_id", "ts"], kind="stable")
    same_card = present.card_id.to_numpy()[1:] == present.card_id.to_numpy()[:-1]
    countries = np.array([index_of(c) for c in present.country])
    km = distance_km(countries[:-1], countries[1:])[same_card]
    hours = np.diff(present.ts.to_numpy())[same_card] / 3_600_000
    assert (km / np.maximum(hours, 1e-6) > 1_000).sum() == 0
    # ... though cards do travel abroad legitimately.
    home = frame[frame.scenario == "none"].groupby("card_id").country.agg(lambda c: c.mode()[0])
    abroad = present.country != present.card_id.map(home)
    assert 0.005 < abroad.mean() < 0.2
