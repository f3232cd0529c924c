"""How the synthetic scene is seen: Kinect v2-like pinhole models and the three NTU cameras.

`Camera` turns world points (camera 1's axes, origin at the scene centre) into camera space;
`project` maps camera-space points to colour or depth pixels, mirrored as NTU's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Kinect v2-like pinhole models. The colour image is mirrored as NTU's: colorX grows with camera x.
COLOR_F, COLOR_C = 1060.0, (960.0, 540.0)
DEPTH_F, DEPTH_C = 365.0, (256.0, 212.0)
CAMERA_YAW_DEG = {1: 0.0, 2: 45.0, 3: -45.0}  # NTU's three cameras: the scene rotated about +y


@dataclass(frozen=True)
class Camera:
    """Where the camera is: the scene rotated by `yaw` about its centre, `distance` away, `height` up."""

    yaw: float
    distance: float
    height: float

    def to_camera(self, world: np.ndarray) -> np.ndarray:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        rotation = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
        return world @ rotation.T + np.array([0.0, -self.height, self.distance])


def project(points: np.ndarray, focal: float, centre: tuple[float, float]) -> np.ndarray:
    """... x 2 pixels of camera-space points (mirrored like NTU: u grows with x, v grows downwards)."""
    z = points[..., 2]
    return np.stack([centre[0] + focal * points[..., 0] / z, centre[1] - focal * points[..., 1] / z], axis=-1)
