from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from sta_hands.app.capture import CaptureThread
from sta_hands.app.ring import FrameRing
from sta_hands.contract.frame import Frame


def _frames(count: int, fps: float = 100.0) -> Iterator[Frame]:
    for i in range(count):
        yield Frame(index=i, timestamp=i / fps, image=np.zeros((4, 4, 3), np.uint8))


def _failing(after: int) -> Iterator[Frame]:
    yield from _frames(after)
    raise OSError("video cut off at frame 3")


def test_capture_reads_every_frame_and_reports_the_end() -> None:
    ring: FrameRing[Frame] = FrameRing(100)
    capture = CaptureThread(_frames(20), ring).start()
    capture.join(5)
    assert [f.index for f in ring] == list(range(20))
    event = capture.events.get(timeout=1)
    assert (event.kind, event.frames_read) == ("end", 20)


def test_source_error_reaches_the_consumer_as_an_event() -> None:
    ring: FrameRing[Frame] = FrameRing(100)
    capture = CaptureThread(_failing(3), ring).start()
    capture.join(5)
    assert len(list(ring)) == 3
    event = capture.events.get(timeout=1)
    assert event.kind == "error"
    assert "frame 3" in event.message


def test_realtime_follows_timestamps_and_stops_cleanly() -> None:
    ring: FrameRing[Frame] = FrameRing(100)
    started = time.perf_counter()
    capture = CaptureThread(_frames(10, fps=50.0), ring, realtime=True).start()
    capture.join(5)
    assert time.perf_counter() - started >= 9 / 50.0 * 0.9
    slow = CaptureThread(_frames(1000, fps=10.0), FrameRing(5), realtime=True).start()
    time.sleep(0.05)
    slow.stop()
    assert not slow.running
