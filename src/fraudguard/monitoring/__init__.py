"""Watching the live system against what it was trained on: drift of scores and features."""
