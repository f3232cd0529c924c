"""BlazePose's person detector: letterboxed 224 x 224 input, SSD anchors, boxes with 4 keypoints.

The decoding follows MediaPipe's pose_detection graph (SsdAnchorsCalculator: 5 layers, strides 8, 16, 32,
32, 32, fixed anchor size; TensorsToDetectionsCalculator: sigmoid scores, coordinates / 224 around the
anchor). Keypoint 0 is the centre between the hips, keypoint 1 a point on the circle around the whole
body; they make the landmark network's region of interest.

Two changes for two people, where MediaPipe's pose graph looks for one: the boxes (all about a fifth of
the detector's input wide, around the head and shoulders) of two people side by side overlap more than
MediaPipe's IoU 0.3 suppression allows, so candidates are suppressed when their box centres lie within a
quarter of a box width of a better one's; and the score threshold is 0.3, not 0.5, because a person
half hidden by another (a hug) scores about 0.4: the landmark network's pose flag rejects false finds.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sta_hands.recordings.estimate.models_onnx import PoseSessions
from sta_hands.recordings.estimate.roi import Roi

DETECTOR_SIZE = 224
MIN_SCORE = 0.3  # (MediaPipe: 0.5) see the module's docstring
SAME_PERSON_RADIUS = 0.25  # box widths between box centres under which two candidates are one person


def _anchor_centres() -> np.ndarray:
    """2254 x 2 anchor centres in the unit square: 28x28x2, 14x14x2, 7x7x6 (three stride-32 layers)."""
    centres = []
    for stride, per_cell in ((8, 2), (16, 2), (32, 6)):
        cells = -(-DETECTOR_SIZE // stride)
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres)


ANCHORS = _anchor_centres()


@dataclass(frozen=True)
class Letterbox:
    """How the image was fitted into the detector's square: image px = (unit * 224 - pad) / scale."""

    scale: float
    pad_x: float
    pad_y: float

    def to_image(self, unit: np.ndarray) -> np.ndarray:
        return (np.asarray(unit) * DETECTOR_SIZE - (self.pad_x, self.pad_y)) / self.scale


@dataclass(frozen=True)
class Detection:
    """One detected person: score, box (x0, y0, x1, y1) and keypoints 4 x 2, in image pixels."""

    score: float
    box: np.ndarray
    keypoints: np.ndarray

    def roi(self) -> Roi:
        return Roi.from_alignment(self.keypoints[0], self.keypoints[1])


def detector_input(image_bgr: np.ndarray) -> tuple[np.ndarray, Letterbox]:
    """224 x 224 x 3 float32 RGB in [-1, 1], the image letterboxed (black bars), and the letterbox."""
    height, width = image_bgr.shape[:2]
    scale = DETECTOR_SIZE / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = image_bgr
    if scale < 0.5:  # bilinear to twice the size, then 2x2 means: INTER_AREA at once costs 50x more (23 ms)
        resized = cv2.resize(resized, (2 * new_w, 2 * new_h), interpolation=cv2.INTER_LINEAR)
    resized = cv2.resize(resized, (new_w, new_h), interpolation=cv2.INTER_AREA)
    pad_x, pad_y = (DETECTOR_SIZE - new_w) // 2, (DETECTOR_SIZE - new_h) // 2
    tensor = np.full((DETECTOR_SIZE, DETECTOR_SIZE, 3), -1.0, dtype=np.float32)
    tensor[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized[..., ::-1] * np.float32(1 / 127.5) - 1
    return tensor, Letterbox(new_w / width, pad_x, pad_y)


def decode(raw: np.ndarray, logits: np.ndarray, letterbox: Letterbox, max_count: int) -> list[Detection]:
    """The best `max_count` people of the raw outputs (2254 x 12, 2254), one candidate per person."""
    scores = 1 / (1 + np.exp(-np.clip(logits.astype(np.float64), -100, 100)))
    keep = np.flatnonzero(scores >= MIN_SCORE)
    if keep.size == 0:
        return []
    raw, scores, anchors = raw[keep], scores[keep], ANCHORS[keep]
    centre = raw[:, 0:2] / DETECTOR_SIZE + anchors
    half = raw[:, 2:4] / DETECTOR_SIZE / 2
    corners = np.concatenate([letterbox.to_image(centre - half), letterbox.to_image(centre + half)], axis=1)
    keypoints = letterbox.to_image(raw[:, 4:12].reshape(-1, 4, 2) / DETECTOR_SIZE + anchors[:, None])
    centres = (corners[:, :2] + corners[:, 2:]) / 2
    chosen: list[int] = []
    for index in np.argsort(-scores, kind="stable"):
        radius = SAME_PERSON_RADIUS * (corners[index, 2] - corners[index, 0])
        if all(np.linalg.norm(centres[index] - centres[other]) >= radius for other in chosen):
            chosen.append(int(index))
            if len(chosen) == max_count:
                break
    return [Detection(float(scores[i]), corners[i], keypoints[i]) for i in chosen]


def detect_people(sessions: PoseSessions, image_bgr: np.ndarray, max_count: int) -> list[Detection]:
    """Up to `max_count` people in `image_bgr`, best first."""
    tensor, letterbox = detector_input(image_bgr)
    raw, logits = sessions.detect(tensor)
    return decode(raw, logits, letterbox, max_count)
