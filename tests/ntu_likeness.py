"""How much a picture shows of an NTU RGB+D video: the check that keeps NTU imagery out of the repository.

NTU RGB+D's terms do not allow redistributing its videos, nor frames, crops or thumbnails of them, so
no committed picture may show one (docs/images.md). `NtuFrames` holds a few grey frames of each sample
video (NTU's cameras stand still, so three frames show a video's room and people) and scores a picture
by the best normalised cross-correlation between the picture and a frame placed where it best fits:

- shown large (a window screenshot: the frame at a quarter of its size or more, partly drawn over):
  ORB keypoints of the picture matched to the frame's, a similarity transform fitted to the matches
  (RANSAC), the frame warped onto the picture by it, and the correlation taken over its footprint;
- shown small (a thumbnail 120 to 320 px wide): the whole frame resized to such widths and searched for
  in the picture.

Above `SHOWS_NTU` (0.9) a picture shows an NTU frame: the old screenshot on S004C002P003R001A055 scores
0.97, a frame drawn over 0.98, a thumbnail 1.00; the docs' pictures 0.20 to 0.84 (the demo's synthetic
room as a thumbnail; shown large, none above 0.3). A lone hand crop is too small to be found this way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

FRAME_WIDTH = 960  # grey frames are kept at this width (half NTU's 1920)
FRAME_POSITIONS = (0.1, 0.5, 0.9)  # of each video's length
THUMBNAIL_WIDTHS = (120, 160, 200, 240, 320)
SHOWS_NTU = 0.9  # a correlation above this: the picture shows an NTU frame
THUMBNAIL_GREY_LEVELS = 16.0  # a thumbnail's place in a picture: mean grey level within this
THUMBNAIL_CONTRAST = 1.25  # and its standard deviation within this factor


@dataclass(frozen=True)
class Likeness:
    score: float  # the best normalised cross-correlation with an NTU frame (-1 to 1)
    video: str  # the video of that frame
    how: str  # "keypoints" (shown large) or "thumbnail"


@dataclass(frozen=True)
class _Frame:
    video: str
    grey: np.ndarray
    keypoints: tuple
    descriptors: np.ndarray | None


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a = a.astype(np.float32) - a.mean()
    b = b.astype(np.float32) - b.mean()
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + 1e-6))


class NtuFrames:
    """A few grey frames of each video in `videos`, with their ORB keypoints."""

    def __init__(self, videos: Iterable[Path]) -> None:
        self._orb = cv2.ORB_create(nfeatures=3000, nlevels=12)
        self._matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        frames_orb = cv2.ORB_create(nfeatures=1500)
        self.frames: list[_Frame] = []
        for video in videos:
            for grey in _grey_frames(video):
                keypoints, descriptors = frames_orb.detectAndCompute(grey, None)
                self.frames.append(_Frame(video.name, grey, keypoints, descriptors))

    def likeness(self, picture: np.ndarray) -> Likeness:
        """How much the picture (BGR or grey, uint8) looks like one of the frames, where it fits best."""
        grey = picture if picture.ndim == 2 else cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
        found = [Likeness(-1.0, "", "")]
        keypoints, descriptors = self._orb.detectAndCompute(grey, None)
        for frame in self.frames:
            if descriptors is not None and frame.descriptors is not None:
                score = self._placed_by_keypoints(grey, keypoints, descriptors, frame)
                found.append(Likeness(score, frame.video, "keypoints"))
            found.append(Likeness(_thumbnail_score(grey, frame.grey), frame.video, "thumbnail"))
        return max(found, key=lambda likeness: likeness.score)

    def _placed_by_keypoints(self, grey: np.ndarray, keypoints, descriptors, frame: _Frame) -> float:
        pairs = self._matcher.knnMatch(frame.descriptors, descriptors, k=2)
        good = [a for a, b in (pair for pair in pairs if len(pair) == 2) if a.distance < 0.8 * b.distance]
        if len(good) < 6:
            return -1.0
        source = np.float32([frame.keypoints[m.queryIdx].pt for m in good])
        target = np.float32([keypoints[m.trainIdx].pt for m in good])
        transform, _ = cv2.estimateAffinePartial2D(
            source, target, method=cv2.RANSAC, ransacReprojThreshold=3.0
        )
        if transform is None:
            return -1.0
        height, width = grey.shape
        warped = cv2.warpAffine(frame.grey, transform, (width, height), flags=cv2.INTER_AREA)
        inside = cv2.warpAffine(np.ones_like(frame.grey), transform, (width, height), flags=cv2.INTER_NEAREST)
        footprint = inside > 0
        if footprint.sum() < frame.grey.size // 64:  # smaller than the smallest thumbnail: left to that
            return -1.0
        return _correlation(grey[footprint], warped[footprint])


def _thumbnail_score(grey: np.ndarray, frame: np.ndarray) -> float:
    """The best correlation of the frame resized to a thumbnail with a place in the picture whose grey
    level and contrast are the thumbnail's (a copy keeps both; correlation alone would also take a
    flat panel with a bright edge for a dim room). Searched at half resolution."""
    picture = cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA).astype(np.float32)
    sums, squares = cv2.integral2(picture, sdepth=cv2.CV_64F)
    best = -1.0
    for width in (w // 2 for w in THUMBNAIL_WIDTHS):
        height = round(frame.shape[0] * width / frame.shape[1])
        if width > picture.shape[1] or height > picture.shape[0]:
            continue
        thumbnail = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
        scores = cv2.matchTemplate(picture, thumbnail, cv2.TM_CCOEFF_NORMED)
        rows, cols = np.nonzero(scores > best)
        if len(rows) == 0:
            continue
        area = width * height
        total = (
            sums[rows + height, cols + width]
            - sums[rows, cols + width]
            - sums[rows + height, cols]
            + sums[rows, cols]
        )
        total2 = (
            squares[rows + height, cols + width] - squares[rows, cols + width]
            - squares[rows + height, cols] + squares[rows, cols]
        )  # fmt: skip
        mean = total / area
        spread = np.sqrt(np.maximum(total2 / area - mean * mean, 0.0))
        alike = (np.abs(mean - thumbnail.mean()) < THUMBNAIL_GREY_LEVELS) & (
            np.abs(np.log((spread + 1.0) / (thumbnail.std() + 1.0))) < np.log(THUMBNAIL_CONTRAST)
        )
        if alike.any():
            best = float(scores[rows[alike], cols[alike]].max())
    return best


def _grey_frames(video: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(video))
    try:
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        frames = []
        for position in FRAME_POSITIONS:
            capture.set(cv2.CAP_PROP_POS_FRAMES, int(position * max(count - 1, 0)))
            ok, image = capture.read()
            if ok:
                grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
                height = round(grey.shape[0] * FRAME_WIDTH / grey.shape[1])
                frames.append(cv2.resize(grey, (FRAME_WIDTH, height), interpolation=cv2.INTER_AREA))
        return frames
    finally:
        capture.release()
