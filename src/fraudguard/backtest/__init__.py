"""Offline backtest: a transactions file through the job's features, scorer, tiers and
exploration in one process (see :mod:`fraudguard.backtest.engine`)."""

from fraudguard.backtest.engine import run_backtest

__all__ = ["run_backtest"]
