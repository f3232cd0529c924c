"""The streaming recognizer: windows of frames -> `Prediction`, over the exported ONNX model.

Each frame's hands are cropped once on arrival (`recordings.inputs.hand_frame`), and each crop
goes through the glimpse CNN once: features are cached by (frame, body, hand), so a new window
costs only the crops it has not seen, batched into one call. The window is 20 frames on a fixed
time grid over the model's `window_seconds` (from its metadata); it slides one grid step at a time.
Offline evaluation of a window calls the same `classify_window`, so the app and evaluation
cannot drift apart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from app.ring import FrameRing
from app.runtime import OnnxModel
from app.worker import Worker
from recordings.frame import Frame
from recordings.inputs import (
    HAND_SLOTS,
    HandFrame,
    glimpse_batch,
    hand_frame,
    time_window_indices,
    window_grid_index,
    window_inputs,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timings:
    crop_ms: float  # assembling the window's inputs and preparing the new crops
    glimpse_ms: float  # the glimpse CNN on the crops not cached yet
    head_ms: float  # the two-stream head
    age_ms: float  # from the newest frame's arrival to this prediction (live); 0 offline
    crops_computed: int  # crops that went through the CNN for this window


@dataclass(frozen=True, eq=False)
class Prediction:
    """One classified window: what the GUI and `run --json` show."""

    frame_indices: np.ndarray  # T
    timestamps: np.ndarray  # T, seconds
    class_names: tuple[str, ...]
    probabilities: np.ndarray  # C, softmax of the fused logits
    pose_probabilities: np.ndarray  # C
    rgb_probabilities: np.ndarray  # C
    spatial_attention: np.ndarray  # T x 4 (left-1, right-1, left-2, right-2)
    temporal_attention: np.ndarray  # T
    hand_mask: np.ndarray  # T x 4
    hand_px: np.ndarray  # T x 4 x 2 colour pixels
    logits: np.ndarray  # C
    timings: Timings
    frames_skipped: int = 0  # so far in this stream

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        order = np.argsort(-self.probabilities)[:k]
        return [(self.class_names[i], float(self.probabilities[i])) for i in order]

    def to_json(self, k: int = 5) -> dict:
        return {
            "frame_indices": self.frame_indices.tolist(),
            "timestamps": [round(float(t), 4) for t in self.timestamps],
            "top": [{"class": name, "probability": round(p, 5)} for name, p in self.top(k)],
            "spatial_attention": np.round(self.spatial_attention, 5).tolist(),
            "temporal_attention": np.round(self.temporal_attention, 5).tolist(),
            "hand_mask": self.hand_mask.astype(int).tolist(),
            "timings_ms": {
                "crop": round(self.timings.crop_ms, 2),
                "glimpse": round(self.timings.glimpse_ms, 2),
                "head": round(self.timings.head_ms, 2),
                "age": round(self.timings.age_ms, 2),
            },
            "crops_computed": self.timings.crops_computed,
            "frames_skipped": self.frames_skipped,
        }


class GlimpseCache:
    """Glimpse features by (frame index, body id, hand joint), least recently used dropped first."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._items: OrderedDict[tuple[int, int, int], np.ndarray] = OrderedDict()

    def get(self, key: tuple[int, int, int]) -> np.ndarray | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: tuple[int, int, int], value: np.ndarray) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


def classify_window(
    model: OnnxModel, frames: Sequence[Frame | HandFrame], cache: GlimpseCache | None = None
) -> Prediction:
    """Classify one window of `window_length` frames (already sampled), reusing cached glimpses."""
    info = model.info
    started = time.perf_counter()
    inputs = window_inputs(frames)
    keys: list[tuple[int, int, int]] = []
    features = np.zeros((len(frames), 4, info.feature_dim), dtype=np.float32)  # T x 4 x D
    todo: list[tuple[int, int]] = []
    for t, h in zip(*np.nonzero(inputs.hand_mask), strict=True):
        key = (frames[t].index, inputs.body_ids[HAND_SLOTS[h][0]], HAND_SLOTS[h][1])
        cached = cache.get(key) if cache is not None else None
        if cached is None:
            todo.append((t, h))
            keys.append(key)
        else:
            features[t, h] = cached
    batch = None
    if todo and inputs.crops is not None:
        crops = np.stack([inputs.crops[t, h] for t, h in todo])
        batch = glimpse_batch(crops, info.glimpse_input_size, info.mean, info.std)
    cropped = time.perf_counter()
    if batch is not None:
        computed = model.glimpse_features(batch)
        for (t, h), key, value in zip(todo, keys, computed, strict=True):
            features[t, h] = value
            if cache is not None:
                cache.put(key, value)
    glimpsed = time.perf_counter()
    out = model.run_head(features[None], inputs.hand_mask[None], inputs.pose[None])
    done = time.perf_counter()
    return Prediction(
        frame_indices=np.array([f.index for f in frames]),
        timestamps=np.array([f.timestamp for f in frames]),
        class_names=info.class_names,
        probabilities=_softmax(out["logits"][0]),
        pose_probabilities=_softmax(out["pose_logits"][0]),
        rgb_probabilities=_softmax(out["rgb_logits"][0]),
        spatial_attention=out["spatial_attention"][0],
        temporal_attention=out["temporal_attention"][0],
        hand_mask=inputs.hand_mask,
        hand_px=inputs.hand_px,
        logits=out["logits"][0],
        timings=Timings(
            crop_ms=(cropped - started) * 1e3,
            glimpse_ms=(glimpsed - cropped) * 1e3,
            head_ms=(done - glimpsed) * 1e3,
            age_ms=0.0,
            crops_computed=0 if batch is None else len(batch),
        ),
    )


class StreamWindows:
    """The live window over a stream of frames: history by time, a prediction due at each grid point.

    Samples sit on a fixed time grid (`recordings.inputs.time_window_indices`); a window is due each
    time the newest frame passes `stride` further grid points.
    """

    def __init__(self, window_length: int, window_seconds: float, stride: int = 1) -> None:
        self.window_length = window_length
        self.window_seconds = window_seconds
        self.stride = stride
        self.history: deque[HandFrame] = deque()
        self.arrivals: deque[float] = deque()
        self._last_grid: int | None = None
        self.due_skipped = 0  # due points superseded by a newer frame before they were classified

    def _grid(self, timestamp: float) -> int:
        return window_grid_index(timestamp, self.window_seconds, self.window_length)

    def add(self, frame: HandFrame, arrival: float) -> None:
        self.history.append(frame)
        self.arrivals.append(arrival)
        keep_after = frame.timestamp - self.window_seconds * 1.25
        while len(self.history) > self.window_length and self.history[0].timestamp < keep_after:
            self.history.popleft()
            self.arrivals.popleft()

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

    def take(self) -> tuple[list[HandFrame], float]:
        """The window ending at the newest grid point, and its newest frame's arrival; marks it done."""
        frames = list(self.history)
        picked = time_window_indices([f.timestamp for f in frames], self.window_seconds, self.window_length)
        self._last_grid = self._grid(frames[-1].timestamp)
        return [frames[i] for i in picked], self.arrivals[int(picked[-1])]


class StreamRecognizer:
    """Frames in, predictions out, synchronously: the live window logic without threads.

    `feed` takes the frames that arrived together. Lossless (replay as fast as possible, evaluation,
    benchmarks), it classifies at every due point; live, only the newest, and counts the due
    points it skipped, so a slow model never builds a backlog.
    """

    def __init__(self, model: OnnxModel, *, stride: int = 1, lossless: bool = False) -> None:
        self.model = model
        self.lossless = lossless
        self.windows = StreamWindows(model.info.window_length, model.info.window_seconds, stride)
        self.cache = GlimpseCache()
        self.predictions = 0
        self.frames_seen = 0
        self.frames_dropped = 0  # by the ring in front of this recognizer (set by its owner)

    @property
    def frames_skipped(self) -> int:
        return self.windows.due_skipped + self.frames_dropped

    def feed(self, frames: Sequence[Frame | HandFrame]) -> list[Prediction]:
        arrival = time.perf_counter()
        hands = [frame if isinstance(frame, HandFrame) else hand_frame(frame) for frame in frames]
        self.frames_seen += len(hands)
        predictions = []
        for frame in hands:
            self.windows.add(frame, arrival)
            if self.lossless and self.windows.due():
                predictions.append(self._classify())
        if not self.lossless and self.windows.due():
            self.windows.due_skipped += max(0, self.windows.count_due_points(hands) - 1)
            predictions.append(self._classify())
        return predictions

    def flush(self) -> list[Prediction]:
        """At the end of a source shorter than one window, classify what there is, once."""
        return [self._classify()] if self.predictions == 0 and self.windows.history else []

    def _classify(self) -> Prediction:
        window, arrival = self.windows.take()
        prediction = classify_window(self.model, window, self.cache)
        timings = replace(prediction.timings, age_ms=(time.perf_counter() - arrival) * 1e3)
        self.predictions += 1
        return replace(prediction, timings=timings, frames_skipped=self.frames_skipped)


class RecognizerThread(Worker):
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
        self.ring = ring
        self.on_prediction = on_prediction
        self.on_error = on_error
        self._stop = threading.Event()
        super().__init__("recognizer")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.ring.close()
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                first = self.ring.pop(timeout=0.1)
                if first is None:
                    if self.ring.closed:
                        break
                    continue
                self._emit(self.recognizer.feed([first, *self.ring.drain()]))
            if not self._stop.is_set():
                self._emit(self.recognizer.flush())
        except Exception as error:
            log.exception("recognizer failed")
            if self.on_error is not None:
                self.on_error(f"recognizer: {error}")

    def _emit(self, predictions: list[Prediction]) -> None:
        self.recognizer.frames_dropped = self.ring.dropped
        for prediction in predictions:
            self.on_prediction(prediction)
