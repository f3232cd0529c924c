"""The rotated square a person's landmarks are read from, as MediaPipe's BlazePose graphs make it.

Both the detector's keypoints and the landmark network's two auxiliary landmarks give a body centre
(between the hips) and a point on the circle around the body; the square is centred on the first, 2.5
times the distance to the second on a side (MediaPipe: 2 x distance, enlarged 1.25, square), and turned so
that the body's axis points up in the crop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

ENLARGE = 1.25  # MediaPipe's RectTransformationCalculator scale for pose ROIs


@dataclass(frozen=True)
class Roi:
    """A square in image pixels: centre (x, y), side `size`, `rotation` in radians (clockwise on screen)."""

    x: float
    y: float
    size: float
    rotation: float

    @classmethod
    def from_alignment(cls, centre: np.ndarray, scale_point: np.ndarray) -> Roi:
        """The ROI of a body centre and its scale point (MediaPipe's AlignmentPointsRectsCalculator, 90°)."""
        dx, dy = float(scale_point[0] - centre[0]), float(scale_point[1] - centre[1])
        rotation = math.pi / 2 - math.atan2(-dy, dx)
        rotation = rotation - 2 * math.pi * math.floor((rotation + math.pi) / (2 * math.pi))
        return cls(float(centre[0]), float(centre[1]), 2 * math.hypot(dx, dy) * ENLARGE, rotation)

    def _rotation_matrix(self) -> np.ndarray:
        cos, sin = math.cos(self.rotation), math.sin(self.rotation)
        return np.array([[cos, -sin], [sin, cos]])

    def to_image(self, unit: np.ndarray) -> np.ndarray:
        """N x 2 points given in the crop's unit square ([0, 1]^2) -> image pixels."""
        return (np.asarray(unit, dtype=np.float64) - 0.5) * self.size @ self._rotation_matrix().T + (
            self.x,
            self.y,
        )

    def rotate(self, vectors: np.ndarray) -> np.ndarray:
        """N x 2 vectors in the crop's axes -> the image's axes (lengths kept)."""
        return np.asarray(vectors, dtype=np.float64) @ self._rotation_matrix().T

    def crop(self, image: np.ndarray, side: int) -> np.ndarray:
        """side x side crop of `image` (same dtype and channels), black outside the image."""
        rotation = self._rotation_matrix() * (self.size / side)
        # crop pixel u's centre is at unit (u + 0.5) / side; image pixel i's centre is at i + 0.5
        offset = np.array([self.x, self.y]) - rotation @ np.array([side / 2 - 0.5, side / 2 - 0.5]) - 0.5
        matrix = np.hstack([rotation, offset[:, None]])
        return cv2.warpAffine(
            image, matrix, (side, side), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT, borderValue=0,
        )  # fmt: skip
