"""`FrameCache`: small copies of the most recent frames, for the "explain this moment" strip.

A full 1080p frame is 6 MB, so the cache keeps per frame only a downscaled image (about 60 kB; the hand
crops the model read travel with its `Prediction`), and at most `capacity` frames: memory stays bounded
(about 15 MB at the default). Filled from the pipeline's display thread (every frame) and the recompute
worker, read from the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sta_hands.app.lru import LruCache
from sta_hands.contract.frame import Frame

THUMB_WIDTH = 192


@dataclass(frozen=True, eq=False)
class Thumbnail:
    index: int
    timestamp: float
    image: np.ndarray | None  # h x THUMB_WIDTH x 3 BGR, None for a frame without an image
    scale: float  # thumbnail px per colour px


def make_thumbnail(frame: Frame, width: int = THUMB_WIDTH) -> Thumbnail:
    image, scale = None, 1.0
    if frame.image is not None:
        height, source_width = frame.image.shape[:2]
        scale = width / source_width
        image = cv2.resize(frame.image, (width, max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    return Thumbnail(frame.index, frame.timestamp, image, scale)


class FrameCache(LruCache[int, Thumbnail]):
    """Thumbnails by frame index, the oldest added dropped first; thread-safe."""

    def __init__(self, capacity: int = 240) -> None:
        super().__init__(capacity)

    def add(self, frame: Frame) -> None:
        self.put(frame.index, make_thumbnail(frame))
