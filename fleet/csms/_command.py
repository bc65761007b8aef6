"""`fleet csms`: run the embedded CSMS until Ctrl-C or SIGTERM.

Passwords given with ``--basic-auth`` are never printed: the startup lines count them, and
every error message goes through `redact_text` with them.
"""

from __future__ import annotations

import argparse
import functools
import gc
import re
import signal
import ssl
import sys

import trio

from fleet._options import DURATION_FORMS, duration_option
from fleet.csms._faults import run_fault_schedule
from fleet.csms._server import EmbeddedCsms
from fleet.profile import (
    EmbeddedSection,
    FaultSection,
    ProfileError,
    parse_fault_option,
    redact_text,
)
from fleet.toolkit import parse_version

# How often the running CSMS reports what it has seen, when something changed.
_REPORT_EVERY = 5.0
# Freeze the objects alive once this many more connections came, checked this often (s).
_FREEZE_EVERY = 200
_FREEZE_CHECK = 1.0
# The field behaviours' flags: [embedded] field -> (flag, metavar, help).
_FIELD_FLAGS = {
    "ping_interval": (
        "--ping-interval",
        "DURATION",
        "a websocket ping to every connection this often",
    ),
    "close_after": (
        "--close-after",
        "DURATION",
        "close each connection this long after it opened",
    ),
    "close_code": (
        "--close-code",
        "N",
        "code of those closes: 1000 (default), 1001, 1011, 1012, 4000-4999...",
    ),
    "reset_after": (
        "--reset-after",
        "DURATION",
        "reset each connection (TCP RST) this long after it opened",
    ),
    "field_jitter": ("--field-jitter", "DURATION", "each close or reset up to this much later"),
    "ignore_close_share": (
        "--ignore-close",
        "SHARE",
        "share of connections that never answer a station's close frame",
    ),
    "slow_close": (
        "--slow-close",
        "DURATION",
        "answer a station's close frame only after this long",
    ),
}
# Every flag whose value is an [embedded] field: checked by the profile's schema, as in a
# profile, and its errors say the flag ([embedded] field -> flag).
_SECTION_FLAGS = {
    "heartbeat_interval": "--heartbeat-interval",
    "response_delay": "--delay",
    "error_share": "--error-share",
    "malformed_share": "--malformed-share",
    "boot_pending_share": "--boot-pending-share",
    "boot_rejected_share": "--boot-rejected-share",
    **{name: flag for name, (flag, _, _) in _FIELD_FLAGS.items()},
}
_SECTION_FIELD = re.compile(r"\b(" + "|".join(_SECTION_FLAGS) + r")\b")
_SSL_NOISE = re.compile(r"^\[[^\]]*\]\s*|\s*\(_ssl\.c:\d+\)$")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "csms",
        help="run the embedded CSMS (a test OCPP server)",
        description="Run the embedded OCPP 1.6J / 2.0.1 CSMS. It answers every charge-point "
        "action validly and counts what it receives. Stations connect to URL/<station id>. "
        f"A DURATION is {DURATION_FORMS}, as in a profile.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    parser.add_argument("--port", default="9000", help="port; 0 picks one (%(default)s)")
    parser.add_argument(
        "--version",
        dest="versions",
        action="append",
        metavar="VERSION",
        help="OCPP version to accept: 1.6 or 2.0.1 (repeat; default both)",
    )
    parser.add_argument(
        "--heartbeat-interval",
        default="300",
        metavar="DURATION",
        help="given at boot, whole seconds (%(default)s)",
    )
    parser.add_argument(
        "--boot-status",
        choices=("Accepted", "Pending", "Rejected"),
        default="Accepted",
        help="answer to every BootNotification (%(default)s)",
    )
    parser.add_argument(
        "--delay",
        dest="response_delay",
        metavar="DURATION",
        help="wait this long before each answer (default 0)",
    )
    parser.add_argument(
        "--action-delay",
        action="append",
        metavar="ACTION=DURATION",
        help="wait this long before answering this action instead (repeat)",
    )
    faults = parser.add_argument_group("faults")
    for name, what in (
        ("error-share", "share of calls answered with a CALLERROR (InternalError)"),
        ("malformed-share", "share of calls answered with a malformed frame"),
        ("boot-pending-share", "share of boots answered Pending"),
        ("boot-rejected-share", "share of boots answered Rejected"),
    ):
        faults.add_argument(f"--{name}", metavar="SHARE", help=f"{what} (default 0)")
    faults.add_argument(
        "--fault",
        action="append",
        metavar="SPEC",
        help="a fault on a schedule, from the start (repeat): restart=5s,at=30s,every=60s | "
        "drop=0.2,at=1m | stall=2s,at=45s,every=2m | close=0.2,code=1011,at=30s | "
        "reset=0.1,at=45s",
    )
    faults.add_argument("--seed", type=int, default=None, help="of the faults' random choices")
    field = parser.add_argument_group("field behaviours", "what real CSMSs do to connections")
    for name, (flag, metavar, what) in _FIELD_FLAGS.items():
        field.add_argument(flag, dest=name, metavar=metavar, help=what)
    parser.add_argument(
        "--basic-auth",
        action="append",
        metavar="STATION:PASSWORD",
        help="require HTTP Basic auth; repeat for each station",
    )
    parser.add_argument("--tls-cert", metavar="FILE", help="serve wss:// with this certificate")
    parser.add_argument("--tls-key", metavar="FILE", help="the certificate's private key")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # No message of ours quotes a password; this is for what the libraries say.
    passwords = [item.partition(":")[2] for item in args.basic_auth or []]

    def fail(message: str, code: int) -> int:
        print(f"fleet csms: {redact_text(message, passwords)}", file=sys.stderr)
        return code

    try:
        csms = _build(args)
        faults = [parse_fault_option(spec) for spec in args.fault or []]
    except ValueError as exc:  # each names its flag (ProfileError is a ValueError)
        return fail(str(exc), 2)
    try:
        try:
            trio.run(_serve, csms, faults)
        except BaseExceptionGroup as group:  # one failure, through our nurseries
            raise _sole(group) from None
    except OSError as exc:  # e.g. the port is taken
        reason = exc.strerror or str(exc)
        return fail(f"--host {args.host} --port {args.port}: cannot listen ({reason})", 1)
    return 0


def _sole(exc: BaseException) -> BaseException:
    """The one exception inside nested single-exception groups, or `exc` itself."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _build(args: argparse.Namespace) -> EmbeddedCsms:
    """The CSMS the flags ask for.

    Raises:
        ValueError: one line that starts with the flag it is about.
    """
    port = _port(args.port)
    versions = []
    for version in args.versions or ["1.6", "2.0.1"]:
        try:
            versions.append(parse_version(version))
        except ValueError as exc:
            raise ValueError(f"--version: {exc}") from None
    basic_auth = None
    if args.basic_auth:
        basic_auth = {}
        for item in args.basic_auth:
            station, sep, password = item.partition(":")
            if not sep or not station:
                raise ValueError("--basic-auth takes STATION:PASSWORD")
            basic_auth[station] = password
    context = _server_ssl_context(args.tls_cert, args.tls_key)
    section = _section(args)
    delay: float | dict[str, float] = section.response_delay
    if args.action_delay:
        delay = {"*": section.response_delay}
        for item in args.action_delay:
            action, sep, text = item.partition("=")
            if not sep or not action:
                raise ValueError(f"--action-delay takes ACTION=DURATION, not {item!r}")
            delay[action] = duration_option(f"--action-delay: {action}", text)
    return EmbeddedCsms(
        host=args.host,
        port=port,
        versions=versions,
        heartbeat_interval=int(section.heartbeat_interval),
        boot_status=args.boot_status,
        boot_pending_share=section.boot_pending_share,
        boot_rejected_share=section.boot_rejected_share,
        response_delay=delay,
        basic_auth=basic_auth,
        ssl_context=context,
        error_share=section.error_share,
        malformed_share=section.malformed_share,
        seed=args.seed,
        ping_interval=section.ping_interval,
        close_after=section.close_after,
        close_code=section.close_code,
        reset_after=section.reset_after,
        field_jitter=section.field_jitter,
        ignore_close_share=section.ignore_close_share,
        slow_close=section.slow_close,
    )


def _section(args: argparse.Namespace) -> EmbeddedSection:
    """The flags that are [embedded] fields, checked by the profile's schema as in a profile;
    an error names the flag (and flags for the fields its reason names)."""
    given = {name: value for name in _SECTION_FLAGS if (value := getattr(args, name)) is not None}
    try:
        return EmbeddedSection.from_options(given)
    except ProfileError as problem:
        reason = _SECTION_FIELD.sub(lambda m: _SECTION_FLAGS[m[1]], problem.reason)
        flag = _SECTION_FLAGS.get(problem.location or "")
        raise ValueError(f"{flag}: {reason}" if flag else reason) from None


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:  # the socket layer would take 70000 as 4464
        raise ValueError(f"--port: expected 0-65535, got {text}")
    return port


def _server_ssl_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if cert is None:
        if key is not None:
            raise ValueError("--tls-key needs --tls-cert")
        return None
    for flag, path in (("--tls-cert", cert), ("--tls-key", key)):
        if path is not None:
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:
                raise ValueError(f"{flag}: cannot read {path}: {exc.strerror or exc}") from None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        flags = f"--tls-cert {cert}" + (f" --tls-key {key}" if key is not None else "")
        # OpenSSL's words, without "[SSL] " before them and "(_ssl.c:3905)" after.
        reason = _SSL_NOISE.sub("", str(exc.args[-1] if exc.args else exc)) or str(exc)
        raise ValueError(f"{flags}: cannot load the certificate and its key ({reason})") from None
    return context


async def _serve(csms: EmbeddedCsms, faults: list[FaultSection]) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(csms.run)
            versions = ", ".join(v.value for v in csms.versions)
            print(f"embedded CSMS listening on {csms.url} ({versions})", flush=True)
            print(f"stations connect to {csms.url}/<station id>; Ctrl-C stops it", flush=True)
            if csms.basic_auth is not None:
                print(  # the stations, never their passwords
                    f"HTTP Basic auth required: {len(csms.basic_auth)} station(s) "
                    f"({_listed(sorted(csms.basic_auth))})",
                    flush=True,
                )
            if csms.field.active:
                print(f"field behaviours: {_field_line(csms)}", flush=True)
            nursery.start_soon(_report, csms)
            nursery.start_soon(_freeze_new_connections, csms)
            if faults:
                start = trio.current_time()

                def log(kind: str, amount: float, now: float) -> None:
                    kind, _, code = kind.partition(" ")  # "close 1011"
                    what = f"{kind} {amount:g}" + (f" (code {code})" if code else "")
                    print(f"fault at {now - start:.1f} s: {what}", flush=True)

                nursery.start_soon(
                    functools.partial(run_fault_schedule, csms, faults, start=start, on_fault=log)
                )
            async for _ in signals:
                nursery.cancel_scope.cancel(reason="signal")
                break
    _print_summary(csms)


def _field_line(csms: EmbeddedCsms) -> str:
    field = csms.field
    parts = []
    if field.ping_interval:
        parts.append(f"ping every {field.ping_interval:g} s")
    if field.close_after:
        parts.append(f"close after {field.close_after:g} s (code {field.close_code})")
    if field.reset_after:
        parts.append(f"reset after {field.reset_after:g} s")
    if field.jitter and (field.close_after or field.reset_after):
        parts.append(f"up to {field.jitter:g} s later")
    if field.ignore_close_share:
        parts.append(f"{field.ignore_close_share:.0%} never answer a close")
    if field.slow_close:
        parts.append(f"close answered after {field.slow_close:g} s")
    return ", ".join(parts)


def _listed(names: list[str], most: int = 5) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


async def _freeze_new_connections(csms: EmbeddedCsms) -> None:
    """Take long-lived connections out of the garbage collector's reach, as the fleet does
    with its stations (see fleet.run's `_freeze`): with thousands of connections, full
    collections would otherwise pause every answer for 100 ms and more."""
    frozen_at = 0
    while True:
        await trio.sleep(_FREEZE_CHECK)
        if csms.connections_accepted - frozen_at >= _FREEZE_EVERY:
            frozen_at = csms.connections_accepted
            gc.freeze()


async def _report(csms: EmbeddedCsms) -> None:
    last = None
    while True:
        await trio.sleep(_REPORT_EVERY)
        now = (len(csms.stations), sum(csms.received.values()))
        if now != last:
            print(f"{now[0]} stations connected, {now[1]} calls received", flush=True)
            last = now


def _print_summary(csms: EmbeddedCsms) -> None:
    received = csms.received
    refused = f", {csms.handshakes_refused} refused" if csms.handshakes_refused else ""
    print(
        f"stopped: {csms.connections_accepted} connections{refused}, "
        f"{sum(received.values())} calls received",
        flush=True,
    )
    for action, count in sorted(received.items()):
        print(f"  {action:<40} {count:>10}", flush=True)
    injected = dict(csms.faults_injected)
    if csms.restarts:
        injected["restarts"] = csms.restarts
    if csms.dropped:
        injected["connections dropped"] = csms.dropped
    if csms.field.pings_sent:
        injected["pings sent"] = csms.field.pings_sent
    if injected:
        print("faults injected:", ", ".join(f"{k} {v}" for k, v in sorted(injected.items())))
