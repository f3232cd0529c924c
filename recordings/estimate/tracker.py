"""Who is who from frame to frame: one track per person, each with its region, id and smoothing.

As MediaPipe does, a track reads its person's landmarks from the region the previous frame's landmarks
gave, and the detector runs only to find people: while no one is tracked, every frame; while fewer people
are tracked than wanted, every `REDETECT_EVERY` frames (a newcomer is found within a sixth of a second
at 30 fps, and a lone person costs the detector on one frame in five only). A detection starts a track
unless its hips' and shoulders' centres (the detector's keypoints 0 and 2) lie on a tracked person's
(regions cannot tell: people side by side have overlapping ones). A track ends when the landmark
network's pose flag says no one is in its region, or when its landmarks fall on an older track's (the
same person found twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sta_hands.recordings.estimate.detector import Detection
from sta_hands.recordings.estimate.landmarks import PoseLandmarks
from sta_hands.recordings.estimate.roi import Roi
from sta_hands.recordings.estimate.smoothing import OneEuroFilter

REDETECT_EVERY = 5  # frames between detector runs while fewer people are tracked than wanted
# a detection whose hips' and shoulders' centres lie this close (mean, in region sizes) to a tracked
# person's is that person: on the real hug (S004C002P003R001A055) 0.09 to one's own, 0.25 to the other
SAME_KEYPOINTS = 0.15
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


def _hips_and_shoulders(landmarks_px: np.ndarray) -> np.ndarray:
    """2 x 2: the hips' and the shoulders' centres of 33 landmarks, as the detector's keypoints 0 and 2."""
    return np.stack([landmarks_px[[23, 24]].mean(axis=0), landmarks_px[[11, 12]].mean(axis=0)])


def is_tracked(detection: Detection, track: Track) -> bool:
    """Whether `detection` is the person `track` follows."""
    if track.last_px is None:
        return False
    distances = np.linalg.norm(detection.keypoints[[0, 2]] - _hips_and_shoulders(track.last_px), axis=1)
    return float(distances.mean()) < SAME_KEYPOINTS * track.roi.size


def new_detections(detections: list[Detection], tracks: list[Track], room: int) -> list[Detection]:
    """At most `room` of `detections` that no track follows yet."""
    return [d for d in detections if not any(is_tracked(d, track) for track in tracks)][:room]
