"""Writes the replay fixtures: a few hundred invented rows in two public data sets' layouts.

The rows are generated here, never taken from the data sets; only the column layouts and the
kinds of values are theirs. Run ``python tests/data/replay/make_fixtures.py`` to write them
again (deterministic).

- ``handbook.csv``: the transaction simulator of the Fraud Detection Handbook (Le Borgne et
  al., chapter 3): customers paying at terminals, its three fraud scenarios (amount over 220,
  compromised terminal, compromised card).
- ``paysim.csv``: PaySim's mobile-money log: ``step`` is the hour since the start, the five
  operation types, fraud as a TRANSFER emptying an account and its CASH_OUT. One TRANSFER is
  over 10,000,000 (PaySim has such rows), which FraudGuard refuses: the fixture's one reject.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
HANDBOOK_COLUMNS = tuple(
    "TRANSACTION_ID TX_DATETIME CUSTOMER_ID TERMINAL_ID TX_AMOUNT TX_TIME_SECONDS TX_TIME_DAYS"
    " TX_FRAUD TX_FRAUD_SCENARIO".split()
)
PAYSIM_COLUMNS = tuple(
    "step type amount nameOrig oldbalanceOrg newbalanceOrig nameDest oldbalanceDest"
    " newbalanceDest isFraud isFlaggedFraud".split()
)


def handbook_rows(rng: random.Random, count: int = 300) -> list[tuple[object, ...]]:
    start = datetime(2018, 4, 1)
    compromised_terminal, compromised_customer = 7, 13
    seconds = sorted(rng.randrange(0, 3 * 86_400) for _ in range(count))
    rows = []
    for txn_id, second in enumerate(seconds):
        customer, terminal = rng.randrange(40), rng.randrange(25)
        amount = round(rng.uniform(5, 120), 2)
        scenario = 0
        if rng.random() < 0.015:
            amount, scenario = round(rng.uniform(221, 400), 2), 1
        elif terminal == compromised_terminal and second > 86_400:
            scenario = 2
        elif customer == compromised_customer and rng.random() < 0.34:
            amount, scenario = round(amount * 5, 2), 3
        when = start + timedelta(seconds=second)
        rows.append((txn_id, when.strftime("%Y-%m-%d %H:%M:%S"), customer, terminal, amount,
                     second, second // 86_400, int(scenario > 0), scenario))  # fmt: skip
    return rows


def paysim_rows(rng: random.Random, count: int = 300) -> list[tuple[object, ...]]:
    customers = [f"C{rng.randrange(10**8, 10**10)}" for _ in range(60)]
    merchants = [f"M{rng.randrange(10**8, 10**10)}" for _ in range(30)]
    rows: list[tuple[object, ...]] = []
    step = 1
    while len(rows) < count:
        step += rng.random() < 0.08
        origin = rng.choice(customers)
        balance = round(rng.uniform(0, 60_000), 2)
        if rng.random() < 0.02 and len(rows) < count - 1:
            # PaySim's fraud: take over an account, TRANSFER it all out, then CASH_OUT.
            mule = rng.choice(customers)
            rows.append((step, "TRANSFER", balance, origin, balance, 0.0, mule, 0.0, 0.0, 1, 0))
            rows.append((step, "CASH_OUT", balance, mule, 0.0, 0.0, rng.choice(customers),
                         0.0, balance, 1, 0))  # fmt: skip
            continue
        kind = rng.choices(("PAYMENT", "TRANSFER", "CASH_OUT", "DEBIT", "CASH_IN"),
                           weights=(34, 8, 35, 1, 22))[0]  # fmt: skip
        amount = round(rng.uniform(10, 9_000 if kind == "PAYMENT" else 200_000), 2)
        dest = rng.choice(merchants if kind == "PAYMENT" else customers)
        after = round(balance + amount if kind == "CASH_IN" else max(balance - amount, 0.0), 2)
        dest_before = 0.0 if kind == "PAYMENT" else round(rng.uniform(0, 100_000), 2)
        dest_after = 0.0 if kind == "PAYMENT" else round(dest_before + amount, 2)
        rows.append((step, kind, amount, origin, balance, after, dest, dest_before, dest_after,
                     0, 0))  # fmt: skip
    huge = rows[count // 2]
    rows[count // 2] = (huge[0], "TRANSFER", 12_345_678.9, *huge[3:])
    return rows[:count]


def write(path: Path, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


if __name__ == "__main__":
    write(HERE / "handbook.csv", HANDBOOK_COLUMNS, handbook_rows(random.Random(18)))
    write(HERE / "paysim.csv", PAYSIM_COLUMNS, paysim_rows(random.Random(18)))
