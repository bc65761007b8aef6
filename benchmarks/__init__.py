"""The benchmark suite: scripts that print their figures and write JSON to
benchmarks/results/. See benchmarks/README.md; ``python -m benchmarks --help``."""
