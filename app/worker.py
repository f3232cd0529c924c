"""`Worker`: the one base of every background thread of the app (capture, recognizer, recorder, export,
memory sampler, one-off jobs such as opening a source).

A daemon thread runs `_run` (or the `target` given) once. `stop()` asks it to end: it sets `stopping`,
calls `_wake` (a subclass closes its ring or wakes its source there, so that a thread blocked on it
returns) and waits for the thread up to `timeout` seconds (0: do not wait, e.g. from the GUI thread).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, Self


class Worker:
    def __init__(self, name: str, target: Callable[[], None] | None = None) -> None:
        self._target = target
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to end; wait up to `timeout` s for it (never from the thread itself)."""
        self._stopping.set()
        self._wake()
        if timeout and self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds` in the thread; True when asked to stop meanwhile."""
        return self._stopping.wait(seconds)

    def _wake(self) -> None:
        """Wake the thread where it may block (a ring, a device); nothing by default."""

    def _run(self) -> None:
        if self._target is None:
            raise NotImplementedError("a Worker needs a target or a _run of its own")
        self._target()


class Joinable(Protocol):
    def join(self, timeout: float | None = None) -> None: ...

    @property
    def running(self) -> bool: ...


class Workers:
    """The threads one owner has started (the finished ones forgotten): what it waits for at exit."""

    def __init__(self) -> None:
        self._threads: list[Joinable] = []

    def start(self, name: str, work: Callable[[], None]) -> None:
        """Run `work` once in a new `Worker` thread."""
        self.track(Worker(name, work).start())

    def track(self, thread: Joinable) -> None:
        self._threads = [t for t in self._threads if t.running] + [thread]

    def join(self, timeout: float) -> None:
        """Wait for them all, `timeout` s at the most in all."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
