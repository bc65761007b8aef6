"""Pass/fail thresholds of a profile, checked against a run's report (as k6's are).

A profile's ``[thresholds]`` table maps a figure to a condition::

    "BootNotification.p99" = "< 500ms"    # an action's latency: p50 p90 p99 p99.9 max mean
    "p99" = "< 1s"                        # ... every action's
    "errors" = "< 0.1%"                   # share of calls with no valid answer, in percent
    "timeouts" = "== 0"                   # calls never answered (count)
    "Heartbeat.errors" = "== 0%"          # the same, for one action
    "Authorize.response.p99" = "< 200ms"  # the response time (frame sent -> answer)
    "ramp:BootNotification.p99" = "< 2s"  # a phase's figure (default: the hold)
    "SetChargingProfile.reaction.p99" = "< 2s"  # a CSMS-initiated action's reaction time
    "ReserveNow.answer.p99" = "< 50ms"    # ... the stations' time to answer it
    "reaction.p99" = "< 5s"               # ... every CSMS-initiated action's (the worst)

``answer.`` and ``reaction.`` name the figures of the report's CSMS-initiated operations
(`Report.csms`), as ``response.`` names the response time of the stations' own calls.

A threshold names a phase with a ``PHASE:`` prefix: ramp, hold, drain, fault-N, or run (the
whole run). Without one it is checked against the hold, the steady state (the whole run
when the run never reached one: the report's notes say so).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping

from fleet.metrics import Report, ThresholdResult, phase_view
from fleet.report._analysis import error_rate

__all__ = ["Threshold", "check_thresholds", "parse_thresholds"]

_LATENCY = {
    "p50": "p50_ms",
    "p90": "p90_ms",
    "p99": "p99_ms",
    "p99.9": "p99_9_ms",
    "max": "max_ms",
    "mean": "mean_ms",
}
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}
_KEY = re.compile(
    r"^(?:(?P<phase>ramp|hold|drain|run|fault-[1-9][0-9]*):)?"
    r"(?:(?!(?:response|answer|reaction)\.)(?P<action>[A-Za-z0-9]+)\.)?"
    r"(?P<response>response\.|answer\.|reaction\.)?"
    r"(?P<metric>p50|p90|p99\.9|p99|max|mean|errors|timeouts)$"
)
_CONDITION = re.compile(r"^(?P<op><=|>=|==|<|>)\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|%)?$")


class Threshold:
    """One parsed threshold."""

    __slots__ = (
        "action",
        "condition",
        "key",
        "kind",
        "metric",
        "op",
        "phase",
        "response",
        "value",
    )

    def __init__(self, key: str, condition: str) -> None:
        match = _KEY.match(key)
        if match is None:
            raise ValueError(
                f"thresholds.{key}: unknown figure; use [PHASE:][ACTION.][response.|answer.|"
                "reaction.]p50|p90|p99|p99.9|max|mean, [PHASE:][ACTION.]errors or "
                "[PHASE:][ACTION.]timeouts (PHASE: ramp, hold, drain, fault-N, run)"
            )
        rule = _CONDITION.match(condition.strip())
        if rule is None:
            raise ValueError(
                f"thresholds.{key}: condition {condition!r} should look like '< 500ms', "
                "'<= 0.1%' or '== 0'"
            )
        self.key = key
        self.condition = condition.strip()
        self.action = match["action"]
        self.metric = match["metric"]
        self.phase = match["phase"]  # None: the hold (or the whole run without one)
        # "response.", or a CSMS-initiated action's "answer." or "reaction." (`Report.csms`)
        self.kind = (match["response"] or "").rstrip(".")
        self.response = self.kind == "response"
        if self.kind and self.metric not in _LATENCY:
            raise ValueError(f"thresholds.{key}: {self.kind}. goes with a latency figure, e.g. p99")
        self.op = rule["op"]
        value, unit = float(rule["value"]), rule["unit"]
        if self.metric in _LATENCY:
            if unit not in ("ms", "s"):
                raise ValueError(f"thresholds.{key}: a latency needs a unit, ms or s")
            self.value = value * 1000 if unit == "s" else value
        elif self.metric == "errors":
            if unit not in ("%", None):
                raise ValueError(f"thresholds.{key}: errors are a percentage, e.g. '< 0.1%'")
            self.value = value
        else:
            if unit is not None:
                raise ValueError(f"thresholds.{key}: timeouts are a count, e.g. '== 0'")
            self.value = value

    def actual(self, report: Report) -> float | None:
        """The report's figure (worst over actions when unscoped); None if it has none
        (no such phase, action or figure)."""
        try:
            report = report.phase_view(self.phase) if self.phase else phase_view(report)
        except ValueError:
            return None
        if self.kind in ("answer", "reaction"):
            if self.action and self.action not in report.csms:
                return None
            names = [self.action] if self.action else list(report.csms)
            csms = [getattr(report.csms[name], self.kind) for name in names]
            found = [getattr(lat, _LATENCY[self.metric]) for lat in csms if lat.count]
            return max(found) if found else None
        actions = [self.action] if self.action else list(report.actions)
        if self.action and self.action not in report.actions:
            return None
        if self.metric in _LATENCY:
            figures = [
                report.actions[a].response if self.response else report.actions[a].latency
                for a in actions
            ]
            values = [
                getattr(stats, _LATENCY[self.metric])
                for stats in figures
                if stats is not None and stats.count
            ]
            return max(values) if values else None
        if self.metric == "errors":
            return error_rate(report, self.action)
        return float(sum(report.actions[a].timeouts for a in actions))

    def check(self, report: Report) -> ThresholdResult:
        actual = self.actual(report)
        passed = actual is not None and _OPERATORS[self.op](actual, self.value)
        return ThresholdResult(
            name=self.key, condition=self.condition, actual=actual, passed=passed
        )


def parse_thresholds(table: Mapping[str, str]) -> list[Threshold]:
    """Parse a profile's thresholds. Raises ValueError naming the bad one."""
    return [Threshold(key, condition) for key, condition in table.items()]


def check_thresholds(thresholds: list[Threshold], report: Report) -> list[ThresholdResult]:
    """Each threshold's result; a figure the run never produced fails (nothing was shown)."""
    return [threshold.check(report) for threshold in thresholds]
