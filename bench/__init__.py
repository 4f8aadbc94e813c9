"""Benchmarks: `python -m bench` (see bench/__main__.py). Each figure is compared, in the same
run, with the limit it cannot beat on the same machine."""
