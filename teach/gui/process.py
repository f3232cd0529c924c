"""`TeachProcess`: runs `sta-hands teach ... --progress-jsonl` in a child process and reads its progress.

The GUI never imports torch: training is the command line's `teach` (export), run as
``python -P -u -m sta_hands.commands teach EXAMPLES --out MODEL --progress-jsonl`` by a `QProcess`
(`TEACH_PROGRAM`), so a crash or an out-of-memory there cannot take the window down, and cancelling is
SIGTERM (the command then leaves no half-written model folder). Its stdout is one JSON object per line:

- ``{"stage": "features"|"training"|"export", "done", "total", "eta_s", "message"}`` -> `progress`
- ``{"stage": "done", "model", "classes", "examples", "seconds", "validation_accuracy", "message"}``
  -> `finished`, once the process has exited with 0
- ``{"stage": "error", "message"}`` and a non-zero exit -> `failed` with that one line.

`parse_line` is plain Python; lines that are not JSON objects (a library's chatter) are ignored.

The child runs the `sta_hands` this window runs (the same interpreter, the same installed package),
whatever the current folder holds: `-P` keeps the current folder off the import path, where a
`sta_hands/` (or, before the package had one distinct name, an `app.py`: issue 23) would run instead. Not
`-I`: it would also drop the user's site-packages, where `pip install --user` puts the app and torch.
`-u` is PYTHONUNBUFFERED's flag.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, pyqtSignal

log = logging.getLogger(__name__)

TEACH_PROGRAM = (sys.executable, "-P", "-u", "-m", "sta_hands.commands")
KILL_AFTER_MS = 10_000  # after SIGTERM, the command gets this long to clean up before it is killed
STAGES = ("features", "training", "export")


@dataclass(frozen=True)
class TeachProgress:
    stage: str
    done: int
    total: int
    eta_s: float | None
    message: str

    @property
    def fraction(self) -> float:
        """How far the whole run is, in [0, 1]: each stage is a third."""
        share = min(1.0, self.done / self.total) if self.total > 0 else 0.0
        position = STAGES.index(self.stage) if self.stage in STAGES else 0
        return (position + share) / len(STAGES)


@dataclass(frozen=True)
class TeachResult:
    model: Path
    classes: tuple[str, ...]
    examples: dict[str, int]
    seconds: float
    validation_accuracy: float | None
    message: str


@dataclass(frozen=True)
class TeachFailure:
    message: str


def parse_line(line: str) -> TeachProgress | TeachResult | TeachFailure | None:
    """One stdout line of `teach --progress-jsonl`; None for a line that is not one of the contract's."""
    try:
        record: Any = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("stage"), str):
        return None
    stage, message = record["stage"], str(record.get("message", "") or "")
    try:
        if stage == "done":
            accuracy = record.get("validation_accuracy")
            return TeachResult(
                model=Path(record["model"]),
                classes=tuple(str(c) for c in record.get("classes", ())),
                examples={str(k): int(v) for k, v in dict(record.get("examples", {})).items()},
                seconds=float(record.get("seconds", 0.0)),
                validation_accuracy=None if accuracy is None else float(accuracy),
                message=message,
            )
        if stage == "error":
            return TeachFailure(message or "training failed (no reason given)")
        eta = record.get("eta_s")
        done, total = int(record.get("done", 0)), int(record.get("total", 0))
        return TeachProgress(stage, done, total, None if eta is None else float(eta), message)
    except (KeyError, TypeError, ValueError):
        log.warning("teach: ignored a malformed progress line: %s", line.strip()[:200])
        return None


def teach_arguments(
    examples: str | Path,
    out: str | Path,
    *,
    base: str | Path | None = None,
    seconds_budget: float | None = None,
    tiny: bool = False,
    pose_stream: str | None = None,
) -> list[str]:
    """The `teach` command's arguments, progress as JSON lines (`pose_stream`: teach's --pose-stream)."""
    arguments = ["teach", str(examples), "--out", str(out), "--progress-jsonl"]
    if base is not None:
        arguments += ["--base", str(base)]
    if seconds_budget is not None:
        arguments += ["--seconds-budget", f"{seconds_budget:g}"]
    if tiny:
        arguments.append("--tiny")
    if pose_stream is not None:
        arguments += ["--pose-stream", pose_stream]
    return arguments


class TeachProcess(QObject):
    """One training at a time. `program` is the command before `teach` (a test may put a stand-in)."""

    progress = pyqtSignal(object)  # TeachProgress
    finished = pyqtSignal(object)  # TeachResult
    failed = pyqtSignal(str)  # one line: why
    cancelled = pyqtSignal()

    def __init__(self, parent: QObject | None = None, program: tuple[str, ...] = TEACH_PROGRAM) -> None:
        super().__init__(parent)
        self.program = program
        self.process: QProcess | None = None
        self._buffer = b""
        self._result: TeachResult | None = None
        self._failure: str | None = None
        self._stderr_tail = ""
        self._cancelling = False
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._kill)

    @property
    def running(self) -> bool:
        return self.process is not None

    def start(self, arguments: list[str]) -> None:
        """Run `program + arguments`; refused (a `failed` line) while one is running."""
        if self.process is not None:
            self.failed.emit("A training is already running: wait for it or cancel it")
            return
        process = QProcess(self)
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(environment)
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self.process, self._buffer, self._result, self._failure = process, b"", None, None
        self._stderr_tail, self._cancelling = "", False
        log.info("teach: %s", " ".join([*self.program, *arguments]))
        process.start(self.program[0], [*self.program[1:], *arguments])

    def cancel(self) -> None:
        """SIGTERM (the command stops cleanly); killed if it is still there `KILL_AFTER_MS` later."""
        if self.process is None or self._cancelling:
            return
        self._cancelling = True
        self.process.terminate()
        self._kill_timer.start(KILL_AFTER_MS)

    def wait(self, milliseconds: int) -> bool:
        """Block until the process has exited (tests, shutdown); True if it did."""
        process = self.process
        return process is None or process.waitForFinished(milliseconds)

    def _kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def _read_stdout(self) -> None:
        if self.process is None:
            return
        self._buffer += bytes(self.process.readAllStandardOutput())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self._handle(line.decode("utf-8", "replace"))

    def _read_stderr(self) -> None:
        if self.process is None:
            return
        text = bytes(self.process.readAllStandardError()).decode("utf-8", "replace")
        log.debug("teach stderr: %s", text.rstrip())
        lines = [line.strip() for line in (self._stderr_tail + text).splitlines() if line.strip()]
        self._stderr_tail = lines[-1] if lines else self._stderr_tail

    def _handle(self, line: str) -> None:
        parsed = parse_line(line)
        if isinstance(parsed, TeachProgress):
            self.progress.emit(parsed)
        elif isinstance(parsed, TeachResult):
            self._result = parsed
        elif isinstance(parsed, TeachFailure):
            self._failure = parsed.message

    def _on_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self._read_stderr()
        if self._buffer.strip():
            self._handle(self._buffer.decode("utf-8", "replace"))
        self._kill_timer.stop()
        process, self.process = self.process, None
        if process is not None:
            process.deleteLater()
        if self._cancelling:
            self.cancelled.emit()
        elif code == 0 and status == QProcess.NormalExit and self._result is not None:
            self.finished.emit(self._result)
        else:
            self.failed.emit(self._why(code, status))

    def _why(self, code: int, status: QProcess.ExitStatus) -> str:
        if self._failure:
            return self._failure
        if self._stderr_tail:
            return self._stderr_tail
        if status != QProcess.NormalExit:
            return "the training process crashed"
        if code == 0:
            return "the training process ended without saying where the model is"
        return f"the training process ended with exit code {code}"

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.FailedToStart and self.process is not None:
            process, self.process = self.process, None
            process.deleteLater()
            self.failed.emit(f"Cannot start the training ({' '.join(self.program)}): {process.errorString()}")
