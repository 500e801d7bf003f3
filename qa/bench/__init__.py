"""Benchmarks that print tables: ``python -m qa.bench`` (one article to a million passages,
:mod:`qa.bench.suite`) and ``python -m qa.bench.scale`` (both stores at scale).

Speed targets live here, not in timed tests.
"""
