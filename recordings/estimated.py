"""`EstimatedBodies`: any reader with images (a video file, an NTU `_rgb.avi` alone, the webcam) whose
frames get the bodies a pose estimator finds in each image, instead of recorded ones.

The estimator (`recordings.estimate.PoseEstimator`: BlazePose through ONNX Runtime, up to two people,
the 25 Kinect joints) tracks people from frame to frame, so each iteration of `frames()` takes one of
its own from a small pool and resets it: a replay, a seek's recompute and an export may read the same
source at once. Frames whose image a consumer did not ask for (`images` flags) come without one and so
without bodies. Estimated frames carry the body-scaled hand-crop rule (`recordings.hand_crop`): the
person's size in the image sets the crop, as it does when a recording of them is trained on.

`open_reader(..., pose=...)` decides where bodies come from: "auto" estimates only where no skeleton
was recorded, "estimate" always (to compare with the Kinect's), "kinect" never.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from recordings.errors import UserError
from recordings.frame import Body, Frame
from recordings.hand_crop import BODY_SCALED_CROP, HandCrop
from recordings.ntu import NO_SKELETON
from recordings.reader import ImageFlags, Reader, read


class Estimator(Protocol):
    """What is used of `recordings.estimate.PoseEstimator` (tests pass a fake with these methods)."""

    def estimate(self, image_bgr: np.ndarray, timestamp: float | None = None) -> tuple[Body, ...]: ...
    def reset(self) -> None: ...
    def describe(self) -> str: ...


EstimatorFactory = Callable[[], Estimator]


def bundled_estimator() -> Estimator:
    """The bundled BlazePose estimator, or a UserError saying in one line why it cannot run here."""
    try:
        from recordings.estimate import PoseEstimator, estimator_available
    except ImportError as error:  # a checkout without the estimator package
        raise UserError(
            f"cannot estimate bodies from the image: the estimator is missing ({error})"
        ) from None
    available, reason = estimator_available()
    if not available:
        raise UserError(f"cannot estimate bodies from the image: {reason}")
    return PoseEstimator(max_people=2)


class EstimatedBodies(Reader):
    """`inner`'s frames with estimated bodies; the first estimator is made at once (a missing model is
    one line when the source opens, not at its first frame)."""

    def __init__(
        self,
        inner: Reader,
        estimator_factory: EstimatorFactory = bundled_estimator,
        *,
        hand_crop: HandCrop = BODY_SCALED_CROP,
    ) -> None:
        self.inner = inner
        self.hand_crop = hand_crop
        self._factory = estimator_factory
        self._idle: list[Estimator] = [estimator_factory()]
        self._lock = threading.Lock()
        self.estimator = self._idle[0].describe()

    # -- the inner reader's facts

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"{self.inner.description}, bodies estimated ({self.estimator})"

    @property
    def bodies_from(self) -> str:
        return f"estimated ({self.estimator})"

    @property
    def path(self) -> Path | None:  # type: ignore[override]
        return self.inner.path

    @property
    def fps(self) -> float:  # type: ignore[override]
        return self.inner.fps

    @property
    def num_frames(self) -> int | None:  # type: ignore[override]
        return self.inner.num_frames

    @property
    def timestamps(self) -> np.ndarray | None:  # type: ignore[override]
        return self.inner.timestamps

    # -- frames

    def frames(self, start: int = 0, images: ImageFlags = None) -> Iterator[Frame]:
        """The inner frames from `start` with the bodies estimated in each decoded image."""
        estimator = self._take()
        try:
            for frame in read(self.inner, start, images):
                image = frame.image  # its time too: the smoothing follows it over frames not decoded
                bodies = estimator.estimate(image, frame.timestamp) if image is not None else ()
                yield replace(frame, bodies=tuple(bodies), hand_crop=self.hand_crop)
        finally:
            self._give(estimator)

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

    # -- the rest of a Reader

    def describe(self) -> dict[str, Any]:
        info = dict(self.inner.describe())
        info["problems"] = [p for p in info.get("problems", []) if p != NO_SKELETON]
        info["bodies_from"] = self.bodies_from
        info["hand_crop"] = self.hand_crop.describe()
        return info

    def stop(self) -> None:
        self.inner.stop()

    def problem(self) -> str | None:
        return self.inner.problem()

    def close(self) -> None:
        self.inner.close()
