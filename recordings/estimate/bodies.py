"""`EstimatedBodies`: any reader with images (a video file, an NTU `_rgb.avi` alone, the webcam) whose
frames get the bodies a pose estimator finds in each image, instead of recorded ones.

The estimator (`recordings.estimate.PoseEstimator`: BlazePose through ONNX Runtime, up to two people,
the 25 Kinect joints) tracks people from frame to frame, so each iteration of `frames()` takes one of
its own from a small pool and resets it: a replay, a seek's recompute and an export may read the same
source at once. Frames whose image a consumer did not ask for (`images` flags) come without one and so
without bodies. Estimated frames carry the body-scaled hand-crop rule (`contract.hand_crop`): the
person's size in the image sets the crop, as it does when a recording of them is trained on.

`open_reader(..., pose=...)` decides where bodies come from: "auto" estimates only where no skeleton
was recorded, "estimate" always (to compare with the Kinect's), "kinect" never.

Estimating less: a stream read whole (no `images` flags) estimates every frame, unless it is read with
an `EstimationSchedule` (`live_view(reader, window_seconds, window_length)`, what the live recognizer's
consumers read): then only the frames the recognizer's time grid will sample, and at least every
`display_every`-th frame for the skeleton on screen, get a fresh estimate; the frames between keep the
last estimate's bodies (the tracker's region carries over, so nothing is re-detected). A replay that
passes `images` flags already estimates only the flagged frames; exports read every frame estimated.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from sta_hands.contract.errors import UserError
from sta_hands.contract.frame import Body, Frame
from sta_hands.contract.hand_crop import BODY_SCALED_CROP, HandCrop
from sta_hands.contract.reader import (
    ESTIMATED,
    SAMPLED,
    FunctionReader,
    ImageFlags,
    Reader,
    SourceNature,
    WrappedReader,
    read,
)
from sta_hands.recordings.ntu.clip import NO_SKELETON

DISPLAY_EVERY = 3  # live: frames between fresh estimates at most, for the skeleton on screen (10 per s)


class Estimator(Protocol):
    """What is used of `recordings.estimate.PoseEstimator` (tests pass a fake with these methods)."""

    def estimate(self, image_bgr: np.ndarray, timestamp: float | None = None) -> tuple[Body, ...]: ...
    def reset(self) -> None: ...
    def describe(self) -> str: ...


EstimatorFactory = Callable[[], Estimator]


def bundled_estimator() -> Estimator:
    """The bundled BlazePose estimator, or a UserError saying in one line why it cannot run here."""
    try:
        from sta_hands.recordings.estimate import PoseEstimator, estimator_available
    except ImportError as error:  # a checkout without the estimator package
        raise UserError(
            f"cannot estimate bodies from the image: the estimator is missing ({error})"
        ) from None
    available, reason = estimator_available()
    if not available:
        raise UserError(f"cannot estimate bodies from the image: {reason}")
    return PoseEstimator(max_people=2)


@dataclass(frozen=True)
class EstimationSchedule:
    """Which frames of a stream read whole get a fresh estimate: those a live window samples (the latest
    frame at or before each point of a `grid_step` time grid, `contract.inputs.time_window_indices`),
    at least every `display_every`-th frame (1: every frame), and every frame while `every_frame()` says
    so (a recording is being made: it stores every frame's own bodies)."""

    grid_step: float  # seconds between the recognizer's samples: window_seconds / (window_length - 1)
    display_every: int = DISPLAY_EVERY
    every_frame: Callable[[], bool] = lambda: False

    def __post_init__(self) -> None:
        if not self.grid_step > 0 or self.display_every < 1:
            raise ValueError(f"bad schedule: grid step {self.grid_step} s, every {self.display_every} frames")

    def due(self, timestamp: float, next_timestamp: float, frames_since: int) -> bool:
        """Whether the frame at `timestamp` gets an estimate, the next frame being (or expected) at
        `next_timestamp`, `frames_since` frames after the last estimated one."""
        if frames_since >= self.display_every or self.every_frame():
            return True
        grid_point = math.ceil(timestamp / self.grid_step - 1e-6) * self.grid_step
        return grid_point < next_timestamp - 1e-9  # a grid point in [this frame, the next): it is sampled


class EstimatedBodies(WrappedReader):
    """`inner`'s frames with estimated bodies; the first estimator is made at once (a missing model is
    one line when the source opens, not at its first frame)."""

    def __init__(
        self,
        inner: Reader,
        estimator_factory: EstimatorFactory = bundled_estimator,
        *,
        hand_crop: HandCrop = BODY_SCALED_CROP,
    ) -> None:
        super().__init__(inner)
        self.hand_crop = hand_crop
        self._factory = estimator_factory
        self._idle: list[Estimator] = [estimator_factory()]
        self._lock = threading.Lock()
        self.estimator = self._idle[0].describe()

    # -- the inner reader's facts, with where the bodies come from

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"{self.inner.description}, bodies estimated ({self.estimator})"

    @property
    def bodies_from(self) -> str:
        return self.nature.bodies_label

    @property
    def nature(self) -> SourceNature:
        """`inner`'s, its bodies estimated from its images."""
        return replace(self.inner.nature, bodies=ESTIMATED, bodies_label=f"estimated ({self.estimator})")

    # -- frames

    def frames(
        self, start: int = 0, images: ImageFlags = None, schedule: EstimationSchedule | None = None
    ) -> Iterator[Frame]:
        """The inner frames from `start` with the bodies estimated in each decoded image (with `schedule`
        and no `images` flags: in the frames it names, module doc)."""
        estimator = self._take()
        schedule = schedule if images is None else None
        try:
            if schedule is None:
                for frame in read(self.inner, start, images):
                    image = frame.image  # its time too: the smoothing follows it over frames not decoded
                    bodies = estimator.estimate(image, frame.timestamp) if image is not None else ()
                    yield replace(frame, bodies=tuple(bodies), hand_crop=self.hand_crop)
            else:
                yield from self._scheduled(estimator, schedule, start)
        finally:
            self._give(estimator)

    def _scheduled(self, estimator: Estimator, schedule: EstimationSchedule, start: int) -> Iterator[Frame]:
        """The frames from `start`, estimated where `schedule` says; the next frame's time is the file's
        where known, else the last interval's (a live camera)."""
        times = self.inner.timestamps
        interval = 1.0 / self.fps if self.fps > 0 else 1.0 / 30
        bodies: tuple[Body, ...] = ()
        since = schedule.display_every  # the first frame is estimated
        previous: float | None = None
        for frame in read(self.inner, start):
            if previous is not None and frame.timestamp > previous:
                interval = frame.timestamp - previous
            previous = frame.timestamp
            known = times is not None and frame.index + 1 < len(times)
            next_time = float(times[frame.index + 1]) if known else frame.timestamp + interval  # type: ignore[index]
            if frame.image is None:
                bodies = ()
            elif schedule.due(frame.timestamp, next_time, since):
                bodies, since = tuple(estimator.estimate(frame.image, frame.timestamp)), 0
            since += 1
            yield replace(frame, bodies=bodies, hand_crop=self.hand_crop)

    def _take(self) -> Estimator:
        with self._lock:
            estimator = self._idle.pop() if self._idle else None
        if estimator is None:
            estimator = self._factory()
        estimator.reset()  # a new pass: nobody is tracked yet
        return estimator

    def _give(self, estimator: Estimator) -> None:
        with self._lock:
            self._idle.append(estimator)

    # -- what `info` prints

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["problems"] = [p for p in info.get("problems", []) if p != NO_SKELETON]
        info["bodies_from"] = self.bodies_from
        info["hand_crop"] = self.hand_crop.describe()
        return info


def live_view(
    reader: Reader,
    window_seconds: float,
    window_length: int,
    display_every: int = DISPLAY_EVERY,
    every_frame: Callable[[], bool] = lambda: False,
) -> Reader:
    """`reader` as a live recognizer with that window reads it: for estimated bodies, a view whose frames
    are estimated on the recognizer's samples and every `display_every`-th frame only (every frame while
    `every_frame()`; module doc); any other reader, and one whose nature asks every frame estimated
    (`SourceNature.estimation`), as it is."""
    if reader.nature.bodies != ESTIMATED or reader.nature.estimation != SAMPLED:
        return reader
    if not isinstance(reader, EstimatedBodies):  # the one that estimates; a wrapper over it reads it whole
        return reader
    schedule = EstimationSchedule(window_seconds / (window_length - 1), display_every, every_frame)
    return FunctionReader(
        reader.description, reader.num_frames, reader.fps,
        lambda start, images: reader.frames(start, images, schedule),
        timestamps=reader.timestamps, stop=reader.stop, problem=reader.problem, nature=reader.nature,
    )  # fmt: skip
