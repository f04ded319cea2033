"""Benchmarks of the toolkit, each figure against a baseline measured in the same run.

Run with `make bench` (`python -m bench`); see `bench.__main__` for the options.
"""
