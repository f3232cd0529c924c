"""`PoseEstimator`: BGR images -> Kinect v2 bodies, up to `max_people`, tracked from frame to frame."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sta_hands.contract.frame import Body
from sta_hands.recordings.estimate.detector import detect_people
from sta_hands.recordings.estimate.joint_map import kinect_body
from sta_hands.recordings.estimate.landmarks import MIN_POSE_FLAG, read_landmarks
from sta_hands.recordings.estimate.models_onnx import open_pose_sessions
from sta_hands.recordings.estimate.tracker import REDETECT_EVERY, Track, new_detections, same_person

DEFAULT_FPS = 30.0  # the frame interval smoothing assumes when no timestamps are given


class PoseEstimator:
    """Up to `max_people` people per BGR image -> Kinect-v2 `Body`s (contract.frame.Body) in the NTU
    layout: joints 25x3 metres in Kinect camera axes (+x to the sensor's left, +y up, +z away),
    color_px 25x2 in the image's own pixels, tracking 25 uint8 (0/1/2), a stable `id` per person
    while they stay in view. Stateful (tracks across calls): one instance per stream."""

    def __init__(
        self, model_dir: Path | None = None, *, max_people: int = 2,
        threads: int | None = None, providers: Sequence[str] | None = None,
    ) -> None:  # fmt: skip
        if max_people < 1:
            raise ValueError(f"max_people={max_people}, expected at least 1")
        self.max_people = max_people
        self._sessions = open_pose_sessions(model_dir, threads, providers)
        self._tracks: list[Track] = []
        self._next_id = 1
        self._frames = 0  # estimate calls since the last reset
        self._since_detection = REDETECT_EVERY

    def describe(self) -> str:
        return f"BlazePose full (ONNX Runtime, {self._sessions.provider})"

    def reset(self) -> None:
        """Forget every track (a seek, a new clip); ids are not reused."""
        self._tracks = []
        self._frames = 0
        self._since_detection = REDETECT_EVERY

    def estimate(self, image_bgr: np.ndarray, timestamp: float | None = None) -> tuple[Body, ...]:
        """The people in `image_bgr` (H x W x 3 uint8 BGR); `timestamp` in seconds (default: 30 fps)."""
        if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.dtype != np.uint8:
            raise ValueError(
                f"expected an H x W x 3 uint8 BGR image, got {image_bgr.shape} {image_bgr.dtype}"
            )
        time = self._frames / DEFAULT_FPS if timestamp is None else timestamp
        self._frames += 1
        self._find_newcomers(image_bgr)
        height, width = image_bgr.shape[:2]
        bodies: list[Body] = []
        kept: list[Track] = []
        for track in self._tracks:
            landmarks = read_landmarks(self._sessions, image_bgr, track.roi)
            if landmarks.flag < MIN_POSE_FLAG:
                continue  # lost: the detector looks again on the next frame
            if any(
                same_person(landmarks.image_px, k.last_px, k.roi.size) for k in kept if k.last_px is not None
            ):
                continue  # two tracks on one person: the older one stays
            image_px, world = track.smooth(landmarks, time)
            body = kinect_body(
                track.id, image_px, world, landmarks.visibility, landmarks.presence, (width, height)
            )
            bodies.append(body)
            kept.append(track)
        if len(kept) < len(self._tracks):
            self._since_detection = REDETECT_EVERY
        self._tracks = kept
        return tuple(bodies)

    def _find_newcomers(self, image_bgr: np.ndarray) -> None:
        room = self.max_people - len(self._tracks)
        if room <= 0 or (self._tracks and self._since_detection < REDETECT_EVERY):
            self._since_detection += 1
            return
        self._since_detection = 1
        detections = detect_people(self._sessions, image_bgr, self.max_people)
        for detection in new_detections(detections, self._tracks, room):
            self._tracks.append(Track(self._next_id, detection.roi()))
            self._next_id += 1
