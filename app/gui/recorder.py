"""`RecorderThread`: writes the frames of the current source into the app's own recording format.

The capture thread pushes each frame into a bounded `FrameRing` (it never waits on the disk); this
thread writes them with `RecordingWriter`, which flushes every frame, so a crash loses at most the
partial last one. `stop()` lets it write what is queued and close the files cleanly, then `on_done`
says so; an error (a full disk) is reported through `on_error` instead, and what was written before it
opens as a recovered recording.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sta_hands.app.ring import FrameRing
from sta_hands.app.worker import Worker
from sta_hands.contract.frame import Frame
from sta_hands.recordings.own.recording import RecordingWriter

log = logging.getLogger(__name__)

QUEUE_FRAMES = 120  # about 4 s at 30 fps between the capture and the disk


class RecorderThread(Worker):
    def __init__(
        self,
        stem: str | Path,
        fps: float,
        *,
        device: str = "replay",
        metadata: dict | None = None,
        on_error: Callable[[str], None] | None = None,
        on_done: Callable[[Path, int], None] | None = None,
    ) -> None:
        self.stem = Path(stem)
        self.fps = fps
        self.device = device
        self.metadata = metadata or {}
        self.on_error = on_error
        self.on_done = on_done
        self.ring: FrameRing[Frame] = FrameRing(QUEUE_FRAMES)
        self.frames_written = 0
        self.error: str | None = None  # set when writing failed (the files keep the whole frames written)
        self.started_at = time.monotonic()
        super().__init__("recorder")

    def push(self, frame: Frame) -> None:
        if not self.ring.closed:
            self.ring.push(frame)

    def _wake(self) -> None:
        """Stop taking frames; the thread writes what is queued, then closes the files."""
        self.ring.close()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started_at

    def _run(self) -> None:
        try:
            with RecordingWriter(
                self.stem, fps=self.fps, device=self.device, metadata=self.metadata
            ) as writer:
                last_time: float | None = None
                first_time = 0.0
                for frame in self.ring:
                    if last_time is None:
                        first_time = frame.timestamp
                    timestamp = frame.timestamp - first_time
                    if last_time is not None and timestamp <= last_time:  # a seek backwards: keep time going
                        timestamp = last_time + 1.0 / self.fps
                    last_time = timestamp
                    stamped = replace(frame, index=self.frames_written, timestamp=timestamp)
                    writer.write(stamped, extra={"source_index": frame.index})
                    self.frames_written += 1
        except Exception as error:  # a full disk, a removed folder: report it, never a dead thread
            log.exception("recording %s stopped", self.stem)
            self.ring.close()
            count = self.frames_written
            kept = " (they open as a recovered recording)" if count else ""
            self.error = f"recording {self.stem.name} stopped after {count} frames{kept}: {error}"
            if self.on_error is not None:
                self.on_error(self.error)
        finally:
            log.info("recording %s: %d frames, %d dropped", self.stem, self.frames_written, self.ring.dropped)
            if self.on_done is not None and self.error is None:  # after an error, the error is the last word
                self.on_done(self.stem, self.frames_written)
