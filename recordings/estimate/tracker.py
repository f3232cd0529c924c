"""Who is who from frame to frame: one track per person, each with its region, id and smoothing.

As MediaPipe does, a track reads its person's landmarks from the region the previous frame's landmarks
gave, and the detector runs only to find people: while no one is tracked, every frame; while fewer people
are tracked than wanted, every `REDETECT_EVERY` frames (a newcomer is found within a sixth of a second
at 30 fps, and a lone person costs the detector on one frame in five only). A detection starts a track
unless its region is centred on a tracked one's: people side by side have overlapping regions. A track
ends when the landmark network's pose flag says no one is in its region, or when its landmarks fall on an
older track's (the same person found twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recordings.estimate.detector import Detection
from recordings.estimate.landmarks import PoseLandmarks
from recordings.estimate.roi import Roi
from recordings.estimate.smoothing import OneEuroFilter

REDETECT_EVERY = 5  # frames between detector runs while fewer people are tracked than wanted
SAME_CENTRE = 0.05  # a detection whose region's centre lies this close (in region sizes) to a track's is its
SAME_PERSON = 0.08  # two tracks whose landmarks lie this close (median, in region sizes) follow one person
# MediaPipe's pose landmark filtering: image landmarks, then world landmarks
PIXEL_SMOOTHING = {"min_cutoff": 0.05, "beta": 80.0}
WORLD_SMOOTHING = {"min_cutoff": 0.1, "beta": 40.0}


@dataclass
class Track:
    """One person followed across frames."""

    id: int
    roi: Roi
    pixels: OneEuroFilter = field(default_factory=lambda: OneEuroFilter(**PIXEL_SMOOTHING))
    world: OneEuroFilter = field(default_factory=lambda: OneEuroFilter(**WORLD_SMOOTHING))
    last_px: np.ndarray | None = None

    def smooth(self, landmarks: PoseLandmarks, time: float) -> tuple[np.ndarray, np.ndarray]:
        """(image px 33 x 2, world 33 x 3) smoothed; the next region follows the new landmarks."""
        image_px = self.pixels(landmarks.image_px, time, self.roi.size)
        world = self.world(landmarks.world, time, 1.0)
        self.roi = landmarks.next_roi
        self.last_px = image_px
        return image_px, world


def same_person(a: np.ndarray, b: np.ndarray, size: float) -> bool:
    """Whether two landmark sets (33 x 2 px) are one person's, for people `size` px tall."""
    return float(np.median(np.linalg.norm(a - b, axis=1))) < SAME_PERSON * size


def new_regions(detections: list[Detection], tracks: list[Track], room: int) -> list[Roi]:
    """Regions of at most `room` detected people that no track follows yet."""
    regions: list[Roi] = []
    for detection in detections:
        roi = detection.roi()
        others = [*(track.roi for track in tracks), *regions]
        if all(np.hypot(roi.x - other.x, roi.y - other.y) >= SAME_CENTRE * other.size for other in others):
            regions.append(roi)
    return regions[:room]
