"""Bounds for fuzzing: a time limit that interrupts a reader stuck in a loop, and a cap on what it allocates.

`STA_HANDS_FUZZ_EXAMPLES` raises the number of hypothesis examples (default 60, so that the default
suite stays fast); `scripts/fuzz_long.sh` runs the fuzz tests with many more.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, settings

from sta_hands.contract.errors import RecordingError

FUZZ_EXAMPLES = int(os.environ.get("STA_HANDS_FUZZ_EXAMPLES", "60"))
SECONDS_PER_EXAMPLE = 10.0  # generous for a busy 2-core machine with tracemalloc on; a stuck loop never ends
MiB = 1 << 20


def fuzz_settings(examples: int | None = None) -> settings:
    """Settings of a fuzz test: bounded examples (raised by STA_HANDS_FUZZ_EXAMPLES), no deadline."""
    count = FUZZ_EXAMPLES if examples is None else max(examples, FUZZ_EXAMPLES)
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
            HealthCheck.filter_too_much,
        ],
    )


class TookTooLong(BaseException):
    """A reader ran past its time bound (it loops or crawls); a BaseException, so that no reader's
    `except Exception` hides it."""


@contextlib.contextmanager
def time_limit(seconds: float = SECONDS_PER_EXAMPLE) -> Iterator[None]:
    """Interrupt the block with `TookTooLong` after `seconds` (main thread only; elsewhere, no limit)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise TookTooLong(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Allocation:
    """The peak of Python and numpy allocations inside a `memory_limit` block."""

    peak = 0


@contextlib.contextmanager
def memory_limit(budget: int) -> Iterator[Allocation]:
    """Fail when the peak traced allocation (Python objects, numpy arrays) of the block exceeds `budget`."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    allocation = Allocation()
    try:
        yield allocation
    finally:
        allocation.peak = tracemalloc.get_traced_memory()[1] - base
        if started:
            tracemalloc.stop()
    assert allocation.peak <= budget, f"allocated {allocation.peak / MiB:.1f} MiB of {budget / MiB:.1f} MiB"


@contextlib.contextmanager
def bounded(budget: int, seconds: float = SECONDS_PER_EXAMPLE) -> Iterator[Allocation]:
    """Both bounds at once: `seconds` of time and `budget` bytes of allocation."""
    with time_limit(seconds), memory_limit(budget) as allocation:
        yield allocation


POSITION = re.compile(r"^(line|byte|frame) \d+$")


def check_error(error: RecordingError, files: Path | tuple[Path, ...], *, position: bool = True) -> None:
    """A reader's error names one of `files`, a position in it (``line N``, ``byte N``, ``frame N``)
    when `position`, and fits on one line."""
    allowed = (files,) if isinstance(files, Path) else files
    assert error.path in allowed, f"the error names {error.path}, expected one of {allowed}: {error}"
    if position:
        assert error.position is not None and POSITION.match(error.position), f"no position: {error}"
    assert "\n" not in str(error), f"more than one line: {error!r}"
