"""The streaming recognizer: windows of frames -> `Prediction`, over the exported ONNX model.

Each frame's hands are cropped once on arrival (`recordings.inputs.hand_frame`), and each crop
goes through the glimpse CNN once, and through a split model's projection (the RGB GRU's input
matrix, `app.runtime.OnnxModel.head_features`) once: what the head reads per hand is cached by
(frame, body, hand), so a new window costs only the crops it has not seen, batched into one call, and a
still hand's new crop reuses its last computed crop's features (`app.hand_glimpses`).
The window is 20 frames on a fixed time grid over the model's `window_seconds` (from its
metadata); it slides one grid step at a time.
Offline evaluation of a window calls the same `classify_window`, so the app and evaluation
cannot drift apart.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from app.hand_glimpses import GlimpseCache, StillCrops, gather_hand_glimpses
from app.ring import FrameRing
from app.runtime import OnnxModel
from app.worker import Worker
from recordings.body_slots import BodyIds, BodySlots
from recordings.frame import Frame
from recordings.inputs import (
    HandFrame,
    glimpse_batch,
    hand_frame,
    time_window_indices,
    window_grid_index,
    window_inputs,
)

log = logging.getLogger(__name__)


Status = Literal["ok", "partial", "no person"]


@dataclass(frozen=True)
class Timings:
    crop_ms: float  # assembling the window's inputs (cropping new frames' hands)
    glimpse_ms: float  # the glimpse CNN (and a split model's projection) on the crops not cached yet
    head_ms: float  # the two-stream head
    age_ms: float  # from the moment the newest frame left its source to this prediction; 0 offline
    crops_computed: int  # crops that went through the CNN for this window
    crops_reused: int = 0  # new crops of still hands that reused an earlier crop's features instead


@dataclass(frozen=True, eq=False)
class Prediction:
    """One classified window: what the GUI and `run --json` show, exactly as the model computed it.

    Slot k of the hands (left-1, right-1, left-2, right-2) is hand k % 2 of the body `body_ids[k // 2]`:
    every view draws from these ids, never from the order a frame lists its bodies in. `crops` are
    the very crops the glimpse CNN read, each resampled from a `hand_side_px` square of the colour image
    around `hand_px` (50 px for Kinect bodies, scaled with the person for estimated ones); a still hand's
    crop is the earlier one whose features it reused, cut from frame `crop_frames[t, k]`. `status` is
    "ok" for a window that spans `window_seconds`, "partial" for a shorter one (a source shorter than a
    window), "no person" when no body is in the window (then no class: `top()` is empty). `streams` says
    which streams made `probabilities`: ("pose", "rgb"), or ("pose",) alone when no hand image reached
    the model (a skeleton without video).
    """

    frame_indices: np.ndarray  # T
    timestamps: np.ndarray  # T, seconds
    class_names: tuple[str, ...]
    probabilities: np.ndarray  # C, softmax of the logits of `streams`
    pose_probabilities: np.ndarray  # C
    rgb_probabilities: np.ndarray  # C
    spatial_attention: np.ndarray  # T x 4 (left-1, right-1, left-2, right-2)
    temporal_attention: np.ndarray  # T
    hand_mask: np.ndarray  # T x 4
    hand_px: np.ndarray  # T x 4 x 2 colour pixels
    logits: np.ndarray  # C, of `streams`
    timings: Timings
    body_ids: BodyIds = (None, None)  # the tracking id in each body slot (None: empty slot)
    crops: np.ndarray | None = None  # T x 4 x 50 x 50 x 3 uint8 BGR, None without images
    crop_frames: np.ndarray | None = None  # T x 4: the frame each crop was cut from (-1: no crop)
    hand_side_px: np.ndarray | None = None  # T x 4: the side in colour px of each crop's square (0: absent)
    status: Status = "ok"
    streams: tuple[str, ...] = ("pose", "rgb")
    captured_at: float = 0.0  # time.perf_counter() when the newest frame left its source (0: unknown)
    frames_dropped: int = 0  # so far in this stream: frames the recognizer never saw (it was busy)
    windows_skipped: int = 0  # so far in this stream: windows due while it was busy, not classified

    def __post_init__(self) -> None:
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)  # handed between threads: nobody may change it

    @property
    def crops_reused(self) -> np.ndarray:
        """T x 4: True where a still hand's features (and crop) come from an earlier frame."""
        if self.crop_frames is None:
            return np.zeros(self.hand_mask.shape, dtype=bool)
        return (self.crop_frames >= 0) & (self.crop_frames != self.frame_indices[:, None])

    @property
    def classified(self) -> bool:
        return self.status != "no person"

    @property
    def remark(self) -> str:
        """What a user must know beside the class: a partial window, the pose stream alone (and why)."""
        remarks = []
        if self.status == "partial":
            remarks.append("partial window")
        if self.classified and self.streams == ("pose",):
            remarks.append("pose only (no video)" if self.crops is None else "pose only (no hand in view)")
        return ", ".join(remarks)

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        if not self.classified:
            return []
        order = np.argsort(-self.probabilities)[:k]
        return [(self.class_names[i], float(self.probabilities[i])) for i in order]

    def to_json(self, k: int = 5) -> dict:
        present = self.hand_mask > 0
        return {
            "status": self.status,
            "streams": list(self.streams),
            "frame_indices": self.frame_indices.tolist(),
            "timestamps": [round(float(t), 4) for t in self.timestamps],
            "top": [{"class": name, "probability": round(p, 5)} for name, p in self.top(k)],
            "body_ids": list(self.body_ids),
            "hand_px": [
                [
                    [round(float(x), 2), round(float(y), 2)] if here else None
                    for (x, y), here in zip(step, mask, strict=True)
                ]
                for step, mask in zip(self.hand_px, present, strict=True)
            ],
            "hand_side_px": None
            if self.hand_side_px is None
            else [
                [int(side) if here else None for side, here in zip(step, mask, strict=True)]
                for step, mask in zip(self.hand_side_px, present, strict=True)
            ],
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
            "crops_reused": self.timings.crops_reused,
            "crop_frames": None if self.crop_frames is None else self.crop_frames.tolist(),
            "frames_dropped": self.frames_dropped,
            "windows_skipped": self.windows_skipped,
        }


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


def classify_window(
    model: OnnxModel,
    frames: Sequence[Frame | HandFrame],
    cache: GlimpseCache | None = None,
    body_ids: Sequence[int | None] | None = None,
    status: Status = "ok",
    still: StillCrops | None = None,
) -> Prediction:
    """Classify one window of `window_length` frames (already sampled), reusing cached glimpses.

    `body_ids`: the body of each slot (a live `BodySlots` decides them); by default the main bodies
    of these frames. A window with no body in it is not classified (status "no person"). With
    `still`, a still hand's new crop reuses the features of the crop it barely differs from
    (`app.hand_glimpses`); frames must then come in time order, as a stream's windows do.
    """
    info = model.info
    started = time.perf_counter()
    inputs = window_inputs(frames, body_ids)
    if all(body_id is None for body_id in inputs.body_ids):
        status = "no person"
    cropped = time.perf_counter()
    glimpses = gather_hand_glimpses(
        [frame.index for frame in frames],
        inputs,
        model.head_feature_dim,
        lambda crops: model.head_features(glimpse_batch(crops, info.glimpse_input_size, info.mean, info.std)),
        cache,
        still,
    )
    glimpsed = time.perf_counter()
    if status == "no person":
        num_classes, steps = len(info.class_names), len(frames)
        out = {
            "logits": np.zeros((1, num_classes), np.float32),
            "pose_logits": np.zeros((1, num_classes), np.float32),
            "rgb_logits": np.zeros((1, num_classes), np.float32),
            "spatial_attention": np.zeros((1, steps, 4), np.float32),
            "temporal_attention": np.zeros((1, steps), np.float32),
        }
    else:
        out = model.run_head_projected(glimpses.values[None], inputs.hand_mask[None], inputs.pose[None])
    done = time.perf_counter()
    with_rgb = bool(inputs.hand_mask.any())  # no hand image reached the model: the pose stream alone
    logits = out["logits"][0] if with_rgb else out["pose_logits"][0]
    return Prediction(
        frame_indices=np.array([f.index for f in frames]),
        timestamps=np.array([f.timestamp for f in frames]),
        class_names=info.class_names,
        probabilities=_softmax(logits),
        pose_probabilities=_softmax(out["pose_logits"][0]),
        rgb_probabilities=_softmax(out["rgb_logits"][0]),
        spatial_attention=out["spatial_attention"][0],
        temporal_attention=out["temporal_attention"][0],
        hand_mask=inputs.hand_mask,
        hand_px=inputs.hand_px,
        logits=logits,
        timings=Timings(
            crop_ms=(cropped - started) * 1e3,
            glimpse_ms=(glimpsed - cropped) * 1e3,
            head_ms=(done - glimpsed) * 1e3,
            age_ms=0.0,
            crops_computed=glimpses.computed,
            crops_reused=glimpses.reused,
        ),
        body_ids=inputs.body_ids,
        crops=glimpses.crops,
        crop_frames=glimpses.crop_frames,
        hand_side_px=inputs.hand_side_px,
        status=status,
        streams=("pose", "rgb") if with_rgb else ("pose",),
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
    windows (`recordings.body_slots.BodySlots`): a person keeps their slot while in view. With a
    `still_threshold` (grey levels; `app.hand_glimpses.StillCrops`), a still hand's new crop reuses the
    features of its last computed crop while they differ by at most that much; the default 0 computes
    every crop, so a replay gives the same predictions wherever it was started
    (`app.hand_glimpses.still_threshold_for` chooses per source).
    """

    def __init__(
        self,
        model: OnnxModel,
        *,
        stride: int = 1,
        lossless: bool = False,
        still_threshold: float = 0.0,
    ) -> None:
        self.model = model
        self.lossless = lossless
        self.windows = StreamWindows(model.info.window_length, model.info.window_seconds, stride)
        self.slots = BodySlots()
        self.cache = GlimpseCache()
        self.still = StillCrops(still_threshold)
        self.predictions = 0
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
        prediction = classify_window(self.model, window, self.cache, body_ids, status, self.still)
        timings = replace(prediction.timings, age_ms=(time.perf_counter() - captured_at) * 1e3)
        self.predictions += 1
        return replace(
            prediction,
            timings=timings,
            captured_at=captured_at,
            frames_dropped=self.frames_dropped,
            windows_skipped=self.windows_skipped,
        )


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
        super().__init__("recognizer")

    def _wake(self) -> None:
        self.ring.close()

    def _run(self) -> None:
        try:
            while not self.stopping:
                first = self.ring.pop(timeout=0.1)
                if first is None:
                    if self.ring.closed:
                        break
                    continue
                frames = [first, *self.ring.drain()]
                self.recognizer.frames_dropped = self.ring.dropped
                self._emit(self.recognizer.feed(frames))
            if not self.stopping:
                self._emit(self.recognizer.flush())
        except Exception as error:
            log.exception("recognizer failed")
            if self.on_error is not None:
                self.on_error(f"recognizer: {error}")

    def _emit(self, predictions: list[Prediction]) -> None:
        for prediction in predictions:
            self.on_prediction(prediction)
