"""Encode + decode cost per OCPP-J message: fleet.ocpp against json + jsonschema.

The baseline is what the common Python OCPP library (`ocpp`) does per message: validate the
payload dict with jsonschema (Draft4Validator over the official schema loaded with
``parse_float=Decimal``, validators cached) and ``json.dumps`` the frame to send; ``json.loads``
the frame and validate the payload again on receipt.

Ours, per message: the sender's ``RpcEndpoint.send_call(action, struct)`` (encodes, and by
default validates what it encoded) and the receiver's ``receive_message(frame)`` (decodes the
frame and the typed payload, fully validated). Also shown without the sender's validation,
the fleet's setting for payloads its own tested code builds.

Run: ``python benchmarks/codec.py [--quick] [--out FILE | --update-results]``. Prints a
table; writes codec.json to a new folder under ~/.cache/ocpp-fleet/benchmarks/, to FILE, or
with --update-results to benchmarks/results/ (the committed figures). Ratios are measured in
one run on one machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import msgspec

from fleet.ocpp import Role, RpcEndpoint, v16, v201

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def messages() -> list[tuple[str, str, str, Any]]:
    """(label, version, action, typed request) of typical messages."""
    boot = v16.BootNotificationRequest(
        charge_point_vendor="Acme",
        charge_point_model="X1-22kW",
        charge_point_serial_number="SN-0001",
        firmware_version="1.2.3",
    )

    def sv(value: str, measurand: str, unit: str, phase: str | None = None) -> v16.SampledValue:
        return v16.SampledValue(
            value=value,
            context=v16.ReadingContext.SAMPLE_PERIODIC,
            measurand=measurand,
            unit=unit,
            **({"phase": phase} if phase else {}),
        )

    meter = v16.MeterValuesRequest(
        connector_id=1,
        transaction_id=42,
        meter_value=[
            v16.MeterValue(
                timestamp=NOW,
                sampled_value=[
                    sv("123456", "Energy.Active.Import.Register", "Wh"),
                    sv("11000", "Power.Active.Import", "W"),
                    sv("16.1", "Current.Import", "A", "L1"),
                    sv("16.0", "Current.Import", "A", "L2"),
                    sv("15.9", "Current.Import", "A", "L3"),
                    sv("230.1", "Voltage", "V", "L1-N"),
                    sv("229.8", "Voltage", "V", "L2-N"),
                    sv("230.4", "Voltage", "V", "L3-N"),
                    sv("54", "SoC", "Percent"),
                    sv("31.5", "Temperature", "Celsius"),
                ],
            )
        ],
    )
    kwh = v201.UnitOfMeasure(unit="Wh")
    event = v201.TransactionEventRequest(
        event_type=v201.TransactionEventEnum.UPDATED,
        timestamp=NOW,
        trigger_reason=v201.TriggerReasonEnum.METER_VALUE_PERIODIC,
        seq_no=7,
        transaction_info=v201.Transaction(
            transaction_id="SIM-000001-3", charging_state=v201.ChargingStateEnum.CHARGING
        ),
        evse=v201.EVSE(id=1, connector_id=1),
        meter_value=[
            v201.MeterValue(
                timestamp=NOW,
                sampled_value=[
                    v201.SampledValue(
                        value=v,
                        measurand=m,
                        context=v201.ReadingContextEnum.SAMPLE_PERIODIC,
                        unit_of_measure=u,
                    )
                    for v, m, u in (
                        (123456.0, "Energy.Active.Import.Register", kwh),
                        (11000.0, "Power.Active.Import", v201.UnitOfMeasure(unit="W")),
                        (16.1, "Current.Import", v201.UnitOfMeasure(unit="A")),
                        (230.1, "Voltage", v201.UnitOfMeasure(unit="V")),
                        (54.0, "SoC", v201.UnitOfMeasure(unit="Percent")),
                    )
                ],
            )
        ],
    )
    return [
        ("1.6 BootNotification", "ocpp1.6", "BootNotification", boot),
        ("1.6 MeterValues (10 sampled values)", "ocpp1.6", "MeterValues", meter),
        ("2.0.1 TransactionEvent Updated", "ocpp2.0.1", "TransactionEvent", event),
    ]


def baseline_validator(version: str, action: str) -> jsonschema.Draft4Validator:
    """A cached validator built as ocpp.messages.get_validator builds it."""
    folder = Path(importlib.util.find_spec("ocpp").origin).parent  # type: ignore[union-attr,arg-type]
    if version == "ocpp1.6":
        path = folder / "v16" / "schemas" / f"{action}.json"
    else:
        path = folder / "v201" / "schemas" / f"{action}Request.json"
    schema = json.loads(path.read_text(encoding="utf-8-sig"), parse_float=decimal.Decimal)
    return jsonschema.Draft4Validator(schema)


def best_of(run: Callable[[int], None], iterations: int, repeats: int) -> float:
    """Median seconds per iteration over `repeats` timed runs of `iterations`."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter_ns()
        run(iterations)
        times.append((time.perf_counter_ns() - started) / iterations / 1e9)
    return statistics.median(times)


def measure(
    label: str, version: str, action: str, request: Any, iterations: int, repeats: int
) -> dict[str, Any]:
    receiver = RpcEndpoint(version, Role.CSMS)

    def ours(validate: bool) -> Callable[[int], None]:
        sender = RpcEndpoint(version, Role.CHARGE_POINT, validate_outgoing=validate)

        def run(n: int) -> None:
            send, receive, abandon = sender.send_call, receiver.receive_message, sender.abandon_call
            forget = receiver._incoming.clear
            for _ in range(n):
                _, frame = send(action, request)
                receive(frame)
                abandon()  # one outstanding CALL: clear it for the next round (cheap)
                forget()

        return run

    # The same content as the library would hold it: a plain dict.
    payload = json.loads(msgspec.json.encode(request))
    validator = baseline_validator(version, action)

    def baseline(n: int) -> None:
        for i in range(n):
            validator.validate(payload)
            frame = json.dumps([2, str(i), action, payload], separators=(",", ":"))
            decoded = json.loads(frame)
            validator.validate(decoded[3])

    # Both sides must accept the message before it is timed.
    validator.validate(payload)
    sender = RpcEndpoint(version, Role.CHARGE_POINT)
    assert (
        type(receiver.receive_message(sender.send_call(action, request)[1])).__name__
        == "CallReceived"
    )
    receiver._incoming.clear()

    ours_s = best_of(ours(True), iterations, repeats)
    ours_fast_s = best_of(ours(False), iterations, repeats)
    baseline_s = best_of(baseline, max(iterations // 20, 50), repeats)
    return {
        "message": label,
        "bytes": len(msgspec.json.encode(request)),
        "ours_us": round(ours_s * 1e6, 2),
        "ours_no_outgoing_validation_us": round(ours_fast_s * 1e6, 2),
        "baseline_us": round(baseline_s * 1e6, 2),
        "ratio": round(baseline_s / ours_s, 1),
        "ratio_no_outgoing_validation": round(baseline_s / ours_fast_s, 1),
    }


def main() -> None:
    # A plain script (python benchmarks/codec.py): its package is importable from the root.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks._common import add_output_arguments, output_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, rougher figures")
    add_output_arguments(parser, "codec")
    args = parser.parse_args()
    out = output_path(parser, args, "codec")
    iterations, repeats = (2_000, 3) if args.quick else (20_000, 7)
    rows = [measure(*m, iterations, repeats) for m in messages()]
    header = f"{'message':<38}{'ours':>10}{'ours*':>10}{'baseline':>12}{'ratio':>8}{'ratio*':>8}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['message']:<38}{row['ours_us']:>8.1f}us{row['ours_no_outgoing_validation_us']:>8.1f}us"
            f"{row['baseline_us']:>10.1f}us{row['ratio']:>7.1f}x{row['ratio_no_outgoing_validation']:>7.1f}x"
        )
    print(
        "ours: encode with validation + decode with validation; * without the sender's validation"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "codec",
        "quick": args.quick,
        "at": dt.datetime.now(dt.UTC).isoformat(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "msgspec": importlib.metadata.version("msgspec"),
        "jsonschema": importlib.metadata.version("jsonschema"),
        "rows": rows,
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
