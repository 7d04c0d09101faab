"""Benchmarks: `python -m bench --help`. They print figures measured beside a baseline in the same run."""
