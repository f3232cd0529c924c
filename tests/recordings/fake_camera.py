"""Stand-ins for a webcam and the pose estimator: `FakeCamera` has `cv2.VideoCapture`'s methods and is
fed from a video file (and can stop delivering, as an unplugged camera does); `FakeEstimator` has
`recordings.estimate.PoseEstimator`'s methods and gives the bodies a clip was drawn with, in order."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from sta_hands.contract.frame import Body, Frame


def write_video(path: Path, frames: Sequence[Frame], fps: float = 30.0, fourcc: str = "MJPG") -> Path:
    """The frames' images as a video file (a real one: OpenCV decodes it as it would a camera's stream)."""
    assert frames[0].image is not None
    height, width = frames[0].image.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), f"no {fourcc} encoder here"
    for frame in frames:
        writer.write(frame.image)
    writer.release()
    return path


class FakeCamera:
    """`cv2.VideoCapture`'s methods over a video file. `deliver`: frames it gives before it stops giving
    any (None: the whole file, then none); `opens=False`: a camera that is not there."""

    def __init__(
        self, path: Path, *, deliver: int | None = None, opens: bool = True, fps: float | None = None
    ) -> None:
        self._video = cv2.VideoCapture(str(path)) if opens else None
        self.deliver = deliver
        self.period = None if fps is None else 1.0 / fps  # a real camera's pace: read() waits for the frame
        self._due = time.perf_counter()
        self.delivered = 0
        self.settings: dict[int, float] = {}
        self.released = False

    def isOpened(self) -> bool:  # OpenCV's name
        return self._video is not None and self._video.isOpened() and not self.released

    def read(self) -> tuple[bool, np.ndarray | None]:
        if (
            self._video is None
            or self.released
            or (self.deliver is not None and self.delivered >= self.deliver)
        ):
            return False, None
        if self.period is not None:
            self._due = max(self._due + self.period, time.perf_counter() - self.period)
            time.sleep(max(0.0, self._due - time.perf_counter()))
        ok, image = self._video.read()
        if not ok:
            return False, None
        size = (
            int(self.settings.get(cv2.CAP_PROP_FRAME_WIDTH, 0)),
            int(self.settings.get(cv2.CAP_PROP_FRAME_HEIGHT, 0)),
        )
        if all(size) and size != (image.shape[1], image.shape[0]):
            image = cv2.resize(image, size)  # the camera gives the size it was asked for
        self.delivered += 1
        return True, image

    def set(self, prop: int, value: float) -> bool:
        self.settings[prop] = value
        return True

    def get(self, prop: int) -> float:
        return 30.0 if prop == cv2.CAP_PROP_FPS else self.settings.get(prop, 0.0)

    def release(self) -> None:
        self.released = True
        if self._video is not None:
            self._video.release()


class FakeEstimator:
    """`PoseEstimator`'s methods: the k-th image since `reset` gets `bodies[k]` (the bodies the clip was
    drawn with), renumbered 1, 2, ... as the estimator's tracker numbers people."""

    def __init__(self, bodies: Sequence[Sequence[Body]]) -> None:
        self.bodies = [tuple(frame_bodies) for frame_bodies in bodies]
        self.calls = 0
        self.resets = 0
        self.images: list[tuple[int, int]] = []
        self.timestamps: list[float | None] = []

    def estimate(self, image_bgr: np.ndarray, timestamp: float | None = None) -> tuple[Body, ...]:
        self.images.append((image_bgr.shape[1], image_bgr.shape[0]))
        self.timestamps.append(timestamp)
        bodies = self.bodies[min(self.calls, len(self.bodies) - 1)]
        self.calls += 1
        return tuple(replace(body, id=number) for number, body in enumerate(bodies, start=1))

    def reset(self) -> None:
        self.calls = 0
        self.resets += 1

    def describe(self) -> str:
        return "fake estimator (tests)"
