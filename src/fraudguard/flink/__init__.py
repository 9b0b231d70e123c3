"""Adapters between the library and PyFlink: environment, connectors and thin operator wrappers.

Logic does not live here: each Flink function delegates to a plain-Python class that the unit
tests exercise without Flink.
"""
