"""Working with run reports: show, merge shards exactly, compare builds with bounds."""

from fleet.report._analysis import (
    Bound,
    Comparison,
    compare,
    error_rate,
    merge,
    parse_bound,
    throughput,
)

__all__ = ["Bound", "Comparison", "compare", "error_rate", "merge", "parse_bound", "throughput"]
