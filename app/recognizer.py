"""The streaming recognizer: windows of frames -> `Prediction`, over any model (`app.model.Model`).

Each frame's hands are cropped once on arrival (`contract.inputs.hand_frame`). The window is
`window_length` frames on a fixed time grid over the model's `window_seconds` (from its metadata); it
slides `prediction_stride` grid steps at a time (the model's prediction rate). Each window goes to the
model's own `window_classifier`, which keeps what it caches between a stream's windows (the two-stream
model's glimpses: `app.two_stream_window`; a pose model keeps nothing: `app.pose_model`).
Offline evaluation of a window calls the same classifier, so the app and evaluation cannot drift apart.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace

from sta_hands.app.hand_glimpses import GlimpseCache
from sta_hands.app.model import Model
from sta_hands.app.prediction import Prediction, Status, Timings
from sta_hands.app.ring import FrameRing, RingConsumer
from sta_hands.app.two_stream_window import classify_window
from sta_hands.contract.body_slots import BodySlots
from sta_hands.contract.frame import Frame
from sta_hands.contract.inputs import HandFrame, hand_frame, time_window_indices, window_grid_index

__all__ = [
    "GlimpseCache",
    "Prediction",
    "RecognizerThread",
    "Status",
    "StreamRecognizer",
    "StreamWindows",
    "Timings",
    "classify_window",
]

log = logging.getLogger(__name__)


class StreamWindows:
    """The live window over a stream of frames: history by time, a prediction due at each grid point.

    Samples sit on a fixed time grid (`contract.inputs.time_window_indices`); a window is due each
    time the newest frame passes `stride` further grid points.
    """

    def __init__(self, window_length: int, window_seconds: float, stride: int = 1) -> None:
        self.window_length = window_length
        self.window_seconds = window_seconds
        self.stride = stride
        self.history: deque[HandFrame] = deque()
        self._last_grid: int | None = None
        self.due_skipped = 0  # due points superseded by a newer frame before they were classified

    def _grid(self, timestamp: float) -> int:
        return window_grid_index(timestamp, self.window_seconds, self.window_length)

    def add(self, frame: HandFrame) -> None:
        self.history.append(frame)
        keep_after = frame.timestamp - self.window_seconds * 1.25
        while len(self.history) > self.window_length and self.history[0].timestamp < keep_after:
            self.history.popleft()

    def due(self) -> bool:
        """True when the history spans the window and the newest frame passed the next grid point."""
        if not self.history:
            return False
        newest = self.history[-1].timestamp
        if newest - self.history[0].timestamp < self.window_seconds * 0.999:
            return False
        return self._last_grid is None or self._grid(newest) >= self._last_grid + self.stride

    def count_due_points(self, new_frames: Sequence[HandFrame]) -> int:
        """How many due points these new frames cross (to count what a slow consumer skips)."""
        if self._last_grid is None or not new_frames:
            return int(bool(new_frames))
        return (self._grid(new_frames[-1].timestamp) - self._last_grid) // self.stride

    def take(self) -> list[HandFrame]:
        """The window ending at the newest grid point; marks it done."""
        frames = list(self.history)
        picked = time_window_indices([f.timestamp for f in frames], self.window_seconds, self.window_length)
        self._last_grid = self._grid(frames[-1].timestamp)
        return [frames[i] for i in picked]


class StreamRecognizer:
    """Frames in, predictions out, synchronously: the live window logic without threads.

    `feed` takes the frames that arrived together. Lossless (replay as fast as possible, evaluation,
    benchmarks), it classifies at every due point; live, only the newest, and counts the due
    points it skipped, so a slow model never builds a backlog. The body slots are kept across
    windows (`contract.body_slots.BodySlots`): a person keeps their slot while in view. With a
    `still_threshold` (grey levels; `app.hand_glimpses.StillCrops`), a still hand's new crop reuses the
    features of its last computed crop while they differ by at most that much; the default 0 computes
    every crop, so a replay gives the same predictions wherever it was started
    (`app.hand_glimpses.still_threshold_for` chooses per source).
    """

    def __init__(
        self,
        model: Model,
        *,
        stride: int | None = None,
        lossless: bool = False,
        still_threshold: float = 0.0,
    ) -> None:
        self.model = model
        self.lossless = lossless
        stride = model.prediction_stride if stride is None else stride
        self.windows = StreamWindows(model.info.window_length, model.info.window_seconds, stride)
        self.slots = BodySlots()
        self.classify_window = model.window_classifier(still_threshold)
        self.predictions = 0  # windows it made a prediction for, "no person" ones included
        self.windows_no_person = 0  # of those, windows with no one in view: no stream ran, no class
        self.frames_seen = 0
        self.frames_dropped = 0  # by the ring in front of this recognizer (set by its owner)

    @property
    def windows_skipped(self) -> int:
        return self.windows.due_skipped

    def feed(self, frames: Sequence[Frame | HandFrame]) -> list[Prediction]:
        """Frames in source order; each one's `captured_at` (else now) starts its latency clock."""
        now = time.perf_counter()
        self.frames_seen += len(frames)
        hands = [frame if isinstance(frame, HandFrame) else hand_frame(frame) for frame in frames]
        hands = [hand if hand.captured_at else replace(hand, captured_at=now) for hand in hands]
        predictions = []
        for frame in hands:
            self.windows.add(frame)
            if self.lossless and self.windows.due():
                predictions.append(self._classify())
        if not self.lossless and self.windows.due():
            self.windows.due_skipped += max(0, self.windows.count_due_points(hands) - 1)
            predictions.append(self._classify())
        return predictions

    def flush(self) -> list[Prediction]:
        """At the end of a source shorter than one window, classify what there is, once, as "partial"."""
        return [self._classify("partial")] if self.predictions == 0 and self.windows.history else []

    def _classify(self, status: Status = "ok") -> Prediction:
        window = self.windows.take()
        captured_at = window[-1].captured_at
        body_ids = self.slots.assign([frame.bodies for frame in window])
        prediction = self.classify_window(window, body_ids, status)
        timings = replace(prediction.timings, age_ms=(time.perf_counter() - captured_at) * 1e3)
        self.predictions += 1
        self.windows_no_person += not prediction.classified
        return replace(
            prediction,
            timings=timings,
            captured_at=captured_at,
            frames_dropped=self.frames_dropped,
            windows_skipped=self.windows_skipped,
        )


class RecognizerThread(RingConsumer[Frame]):
    """Runs a `StreamRecognizer` on a `FrameRing` in a worker thread; results go to `on_prediction`.

    Each time it wakes it takes every frame waiting. An exception is reported through `on_error`,
    never a silently dead worker.
    """

    def __init__(
        self,
        recognizer: StreamRecognizer,
        ring: FrameRing[Frame],
        on_prediction: Callable[[Prediction], None],
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.recognizer = recognizer
        self.on_prediction = on_prediction
        self.on_error = on_error
        super().__init__("recognizer", ring)

    def _take(self, items: list[Frame]) -> None:
        self.recognizer.frames_dropped = self.ring.dropped
        self._emit(self.recognizer.feed(items))

    def _drained(self) -> None:
        self._emit(self.recognizer.flush())

    def _failed(self, error: Exception) -> None:
        log.exception("recognizer failed")
        if self.on_error is not None:
            self.on_error(f"recognizer: {error}")

    def _emit(self, predictions: list[Prediction]) -> None:
        for prediction in predictions:
            self.on_prediction(prediction)
