"""`Worker`: a daemon thread with start / join / running, for the app's background jobs."""

from __future__ import annotations

import threading
from typing import Self


class Worker:
    """Subclasses implement `_run`; it runs once in a daemon thread named `name`."""

    def __init__(self, name: str) -> None:
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        raise NotImplementedError
