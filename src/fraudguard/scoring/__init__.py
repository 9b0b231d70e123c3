"""Scorers turn a transaction and its features into a fraud score in [0, 1]."""
