"""Working with run reports: show, merge shards exactly, compare builds with bounds."""

from fleet.report._analysis import (
    Bound,
    Comparison,
    compare,
    error_rate,
    merge,
    merge_intervals,
    parse_bound,
    throughput,
)
from fleet.report._html import render_html
from fleet.report._thresholds import Threshold, check_thresholds, parse_thresholds

__all__ = [
    "Bound",
    "Comparison",
    "Threshold",
    "check_thresholds",
    "compare",
    "error_rate",
    "merge",
    "merge_intervals",
    "parse_bound",
    "parse_thresholds",
    "render_html",
    "throughput",
]
