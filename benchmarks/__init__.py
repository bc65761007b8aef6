"""The benchmark suite: scripts that print their figures and write JSON to a folder of the
run's own (benchmarks/results/ holds the committed figures, written only with
``--update-results``). See benchmarks/README.md; ``python -m benchmarks --help``."""
