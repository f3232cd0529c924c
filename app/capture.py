"""`CaptureThread`: reads a source in its own thread into a `FrameRing`.

As fast as possible (evaluation, benchmarks) or paced by the recorded timestamps (`realtime`,
scaled by `speed`). A failing source never dies silently: its error reaches the consumer as a
`CaptureEvent`, and the ring is closed so that nothing waits forever.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sta_hands.app.ring import FrameRing
from sta_hands.app.worker import Worker
from sta_hands.contract.frame import Frame
from sta_hands.contract.reader import close_frames

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaptureEvent:
    kind: Literal["end", "error"]
    message: str = ""
    frames_read: int = 0


class CaptureThread(Worker):
    """Runs `frames` (any iterable of Frame) into one ring or several (e.g. recognizer and display).

    `stop()` ends it cleanly; every ring is closed when the source ends, fails or is stopped.
    """

    def __init__(
        self,
        frames: Iterable[Frame],
        rings: FrameRing[Frame] | Sequence[FrameRing[Frame]],
        *,
        realtime: bool = False,
        speed: float = 1.0,
        name: str = "capture",
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self._frames = frames
        self._on_stop = on_stop
        self.rings = (rings,) if isinstance(rings, FrameRing) else tuple(rings)
        self.realtime = realtime
        self.speed = speed
        self.events: queue.Queue[CaptureEvent] = queue.Queue()
        self.frames_read = 0
        super().__init__(name)

    def _wake(self) -> None:
        if self._on_stop is not None:  # wake a source that waits inside its own loop
            self._on_stop()

    def _run(self) -> None:
        try:
            self._read_all()
            self.events.put(CaptureEvent("end", frames_read=self.frames_read))
        except Exception as error:  # a source's failure becomes an event, never a dead thread
            log.warning("capture stopped: %s", error, exc_info=log.isEnabledFor(logging.DEBUG))
            self.events.put(CaptureEvent("error", str(error), self.frames_read))
        finally:
            close_frames(self._frames)  # a generator over a device is closed in the thread that opened it
            for ring in self.rings:
                ring.close()

    def _read_all(self) -> None:
        start_clock: float | None = None
        first_timestamp = 0.0
        for unstamped in self._frames:
            frame = unstamped.stamped()  # the moment it left its source: latency starts here
            if self.stopping:
                return
            if self.realtime:
                if start_clock is None:
                    start_clock, first_timestamp = time.perf_counter(), frame.timestamp
                due = start_clock + (frame.timestamp - first_timestamp) / self.speed
                if self.wait(max(0.0, due - time.perf_counter())):
                    return
            for ring in self.rings:
                ring.push(frame)
            self.frames_read += 1
