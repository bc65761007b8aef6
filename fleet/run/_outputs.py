"""Where a run's results go: checked before the run starts, written whatever ends it.

A run writes its report (JSON), optionally an HTML page, and, when anything went wrong inside
the fleet, a log next to the report (``NAME.log`` beside ``NAME.json``): the warnings the
package logged, and the first traceback of each kind of station fault. Nothing of this goes
to the terminal, where thousands of stations would flood it; the summary says where it is.

Paths are checked before the ramp, so a run never ends with results it cannot write; if
writing still fails at the end (the disk filled up, the folder went away), the file goes to
a temporary one and the message says where. Every text written here is redacted with the
run's secrets first.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from fleet.metrics import Report, write_report
from fleet.profile import redact_text

__all__ = ["RunLog", "RunOutputs", "check_output_path"]

# A run keeps at most this many log records; the rest are counted.
MAX_LOG_RECORDS = 200


def check_output_path(path: Path, flag: str) -> str | None:
    """None if `path` can be written (its folder is made when missing); otherwise a
    one-line reason naming `flag`. Nothing is left behind but the folder."""
    if path.is_dir():
        return f"{flag} {path}: is a folder, not a file"
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with open(path, "ab"):  # appends nothing: the file stays as it is
                pass
        else:
            with tempfile.NamedTemporaryFile(dir=parent, prefix=".fleet-check-"):
                pass
    except OSError as exc:
        return f"{flag} {path}: cannot be written ({_reason(exc)})"
    return None


def _reason(exc: OSError) -> str:
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return "a part of the path is a file, not a folder"
    return exc.strerror or type(exc).__name__


class RunLog(logging.Handler):
    """Keeps what the package logs during a run (WARNING and above), for the log file.

    Installed on the ``fleet`` logger for the length of a ``with`` block, which stops those
    records from reaching the terminal. At most `MAX_LOG_RECORDS` are kept; the rest counted.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.dropped = 0
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        self._logger = logging.getLogger("fleet")
        self._saved = (self._logger.level, self._logger.propagate)

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.lines) >= MAX_LOG_RECORDS:
            self.dropped += 1
            return
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted is dropped, counted
            self.dropped += 1

    def __enter__(self) -> RunLog:
        self._logger.addHandler(self)
        self._logger.setLevel(logging.WARNING)
        self._logger.propagate = False
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._logger.removeHandler(self)
        self._logger.level, self._logger.propagate = self._saved


class RunOutputs:
    """The files of one run.

    Args:
        out: the report (JSON); the log goes next to it, with the suffix ``.log``.
        html: the HTML page, if asked for.
        secrets: the run's secret values, hidden in every text written.
        say: where to tell the user about a fallback (stderr by default).
    """

    def __init__(
        self,
        out: Path,
        html: Path | None,
        secrets: Iterable[str] = (),
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.out = out
        self.html = html
        self.log = out.with_suffix(".log")
        self._secrets = tuple(secrets)
        self._say = say or (lambda text: print(text, file=sys.stderr))

    def check(self, out_flag: str = "--out") -> str | None:
        """None if every file can be written, else the first problem, one line."""
        for path, flag in ((self.out, out_flag), (self.html, "--html")):
            if path is not None and (problem := check_output_path(path, flag)):
                return problem
        return None

    def write_report(self, report: Report) -> Path:
        """Write the report; where it went (its place, or a temporary file)."""
        return self._write(self.out, "report", lambda path: write_report(report, path))

    def write_html(self, page: str) -> Path | None:
        if self.html is None:
            return None
        text = redact_text(page, self._secrets)
        return self._write(self.html, "HTML report", lambda path: _write_text(path, text))

    def write_log(
        self,
        log: RunLog | None,
        tracebacks: Mapping[str, str],
        counts: Mapping[str, int],
        more: Iterable[str] | None = None,
    ) -> Path | None:
        """Write the log if there is anything to say: `log`'s records, the first traceback
        of each fault kind (with its count), then `more` (the workers' logs). Where it went,
        or None."""
        lines = list(log.lines) if log is not None else []
        if log is not None and log.dropped:
            lines.append(f"... and {log.dropped} more log records, not kept")
        for kind, text in tracebacks.items():
            lines.append(
                f"station fault {kind!r} ({counts.get(kind, 0)} in all); the first:\n{text}"
            )
        lines += more or ()
        if not lines:
            return None
        text = redact_text("\n".join(lines) + "\n", self._secrets)
        return self._write(self.log, "log", lambda path: _write_text(path, text))

    def _write(self, path: Path, what: str, write: Callable[[Path], None]) -> Path:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write(path)
            return path
        except OSError as exc:
            handle, name = tempfile.mkstemp(prefix="fleet-", suffix=path.suffix)
            os.close(handle)
            fallback = Path(name)
            write(fallback)
            self._say(
                f"fleet run: cannot write the {what} to {path} ({_reason(exc)}); "
                f"it is in {fallback}"
            )
            return fallback


def _write_text(path: Path, text: str) -> None:
    # Atomically, as the report: a failed write leaves no part-written file behind.
    handle, temporary = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
