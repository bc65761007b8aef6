"""Run metrics and reports: HdrHistograms of latency from intended send times, counts of every
failure, a per-second timeline, and the JSON report that holds them."""

from fleet.metrics._recorder import ActionRecord, FaultMark, Interval, Metrics, new_histogram
from fleet.metrics._report import (
    REPORT_FORMAT,
    ActionStats,
    Counters,
    Environment,
    FaultRecord,
    LatencyStats,
    Report,
    ThresholdResult,
    build_report,
    decode_histogram,
    describe_fault,
    format_summary,
    latency_stats,
    read_report,
    write_report,
)

__all__ = [
    "REPORT_FORMAT",
    "ActionRecord",
    "ActionStats",
    "Counters",
    "Environment",
    "FaultMark",
    "FaultRecord",
    "Interval",
    "LatencyStats",
    "Metrics",
    "Report",
    "ThresholdResult",
    "build_report",
    "decode_histogram",
    "describe_fault",
    "format_summary",
    "latency_stats",
    "new_histogram",
    "read_report",
    "write_report",
]
