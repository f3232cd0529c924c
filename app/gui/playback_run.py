"""`PlaybackRun`: one stretch of the session's playback, from some frame until a pause, a seek or the
end: a `CaptureThread` pushing the frames into a display ring (capacity 2, newest wins: the window draws
the newest frame) and, with a model, into the recognizer's ring read by a `RecognizerThread`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.capture import CaptureThread
from app.recognizer import Prediction, RecognizerThread, StreamRecognizer
from app.ring import FrameRing
from recordings.frame import Frame
from recordings.reader import Reader

DISPLAY_RING_CAPACITY = 2  # the window draws the newest frame; older ones are not worth drawing
RECOGNIZER_RING_CAPACITY = 8  # as `sta-hands run --realtime`: a slow model skips, never lags


@dataclass
class PlaybackRun:
    capture: CaptureThread
    display: FrameRing[Frame]
    recognizer: RecognizerThread | None

    def stop(self) -> None:
        """Stop the capture and the recognizer without waiting for them."""
        self.capture.stop(timeout=0)
        if self.recognizer is not None:
            self.recognizer.stop(timeout=0)


def start_run(
    frames: Iterator[Frame],
    source: Reader,
    recognizer: StreamRecognizer | None,
    speed: float | None,
    on_prediction: Callable[[Prediction], None],
    on_error: Callable[[str], None],
) -> PlaybackRun:
    """Start reading `frames` (those of `source`) at `speed` (None: as fast as possible; a live source is
    never paced) into the display ring and `recognizer` (None: no model), which reports through
    `on_prediction` and `on_error` from its thread."""
    display: FrameRing[Frame] = FrameRing(DISPLAY_RING_CAPACITY)
    rings = [display]
    thread = None
    if recognizer is not None:
        recognizer.lossless = False
        ring: FrameRing[Frame] = FrameRing(RECOGNIZER_RING_CAPACITY)
        rings.append(ring)
        thread = RecognizerThread(recognizer, ring, on_prediction=on_prediction, on_error=on_error).start()
    capture = CaptureThread(
        frames, rings, realtime=speed is not None and source.num_frames is not None, speed=speed or 1.0,
        on_stop=source.stop,
    ).start()  # fmt: skip
    return PlaybackRun(capture, display, thread)
