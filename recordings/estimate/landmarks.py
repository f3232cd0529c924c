"""BlazePose's landmark network on one region of interest: 33 body landmarks in image pixels and in metres.

The network (256 x 256 RGB in [0, 1]) gives 39 landmarks: the 33 of BlazePose's topology, then two
auxiliary ones (body centre and scale point) that make the next frame's region, and four unused. Per
landmark: x, y, z in crop pixels, visibility and presence as logits; world landmarks in metres around the
hips' centre in the crop's axes; and a pose flag (the probability that a person is in the crop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sta_hands.recordings.estimate.models_onnx import PoseSessions
from sta_hands.recordings.estimate.roi import Roi

LANDMARK_SIZE = 256
NUM_LANDMARKS = 33
CENTRE, SCALE_POINT = 33, 34  # the auxiliary landmarks that align the next ROI
MIN_POSE_FLAG = 0.5  # below this the track is lost (MediaPipe's min_tracking_confidence default)


@dataclass(frozen=True)
class PoseLandmarks:
    """One person's landmarks in one image."""

    image_px: np.ndarray  # 33 x 2 float64, image pixels
    visibility: np.ndarray  # 33 probabilities: in view and not occluded
    presence: np.ndarray  # 33 probabilities: inside the image
    world: np.ndarray  # 33 x 3 metres around the hips' centre; image axes (x right, y down, z away)
    flag: float  # probability that a person is in the region
    next_roi: Roi  # the region to read this person from in the next frame


def landmark_input(image_bgr: np.ndarray, roi: Roi) -> np.ndarray:
    """256 x 256 x 3 float32 RGB in [0, 1]: the region of `image_bgr`, turned upright."""
    crop = roi.crop(image_bgr, LANDMARK_SIZE)
    return crop[..., ::-1].astype(np.float32) * np.float32(1 / 255)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(x, -80, 80)))


def read_landmarks(sessions: PoseSessions, image_bgr: np.ndarray, roi: Roi) -> PoseLandmarks:
    """The landmarks of the person in `roi` of `image_bgr`."""
    raw, flag, world = sessions.landmark(landmark_input(image_bgr, roi))
    image_px = roi.to_image(raw[:, :2].astype(np.float64) / LANDMARK_SIZE)
    world_xy = roi.rotate(world[:NUM_LANDMARKS, :2])
    return PoseLandmarks(
        image_px=image_px[:NUM_LANDMARKS],
        visibility=_sigmoid(raw[:NUM_LANDMARKS, 3].astype(np.float64)),
        presence=_sigmoid(raw[:NUM_LANDMARKS, 4].astype(np.float64)),
        world=np.column_stack([world_xy, world[:NUM_LANDMARKS, 2]]).astype(np.float64),
        flag=flag,
        next_roi=Roi.from_alignment(image_px[CENTRE], image_px[SCALE_POINT]),
    )
