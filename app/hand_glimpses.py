"""Which hand crops go through the glimpse CNN: each crop once, and a still hand's not at all.

What the head reads per hand (a split model's projected glimpse, else the glimpse features) is
cached by (frame index, body id, hand joint), so a sliding window only computes its newest frames.

A still hand (or a still object in it) gives nearly the same crop frame after frame. `StillCrops`
keeps, per body and hand, the crop whose features were last computed; a new crop of that hand whose
mean absolute difference from it is at most `threshold` grey levels (0-255, on 2x2 area averages, so
that sensor noise counts less than a hand that moved) reuses those features instead of running the
CNN. The comparison is always with the crop that was computed, never with the last reused one, so
small changes cannot add up. The window then shows the crop the CNN read (`HandGlimpses.crops`) and
the frame it was cut from (`crop_frames`): what is drawn is what the model computed.

The threshold was measured not to move predictions (`scripts/still_crops.py`, docs/speed.md). It
applies to live sources (a camera, a Kinect), where speed decides how fresh the prediction is: which
crop a hand's features come from depends on the frames read before, so a replay of a file computes
every crop (threshold 0) and gives the same prediction for a frame however it got there (played
through, or sought).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sta_hands.app.lru import LruCache
from sta_hands.contract.inputs import HAND_SLOTS, WindowInputs

STILL_CROP_THRESHOLD = 3.0  # grey levels; measured in docs/speed.md ("Still hands")
NO_CROP = -1  # crop_frames where a hand is absent or the frames have no images


def still_threshold_for(live: bool) -> float:
    """The still-crop threshold a source gets by default: `STILL_CROP_THRESHOLD` live, 0 for a file."""
    return STILL_CROP_THRESHOLD if live else 0.0


@dataclass(frozen=True, eq=False)
class CachedGlimpse:
    value: np.ndarray  # what the head reads for this hand
    crop_frame: int  # the frame whose crop `value` was computed from
    crop: np.ndarray | None  # that crop when it is another frame's (a still hand), else None


class GlimpseCache(LruCache[tuple[int, int, int], CachedGlimpse]):
    """What the head reads per hand by (frame index, body id, hand joint), least recently used dropped
    first."""

    def __init__(self, capacity: int = 4096) -> None:
        super().__init__(capacity)


def _reduced(crop: np.ndarray) -> np.ndarray:
    """The crop averaged over 2x2 pixel blocks, float32 (odd edges dropped)."""
    h, w = crop.shape[0] // 2 * 2, crop.shape[1] // 2 * 2
    blocks = crop[:h, :w].reshape(h // 2, 2, w // 2, 2, -1).astype(np.float32)
    return blocks.mean(axis=(1, 3))


def _change(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def crop_change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two crops' 2x2 averages, in grey levels (0-255)."""
    return _change(_reduced(a), _reduced(b))


@dataclass(eq=False)
class _Computed:
    """A crop that goes (or went) through the CNN, and what came out (None until it has)."""

    crop: np.ndarray
    frame: int
    reduced: np.ndarray
    value: np.ndarray | None = None


class StillCrops:
    """Per body and hand, the crop last computed; a new crop within `threshold` of it reuses its value."""

    def __init__(self, threshold: float = STILL_CROP_THRESHOLD, capacity: int = 16) -> None:
        if threshold < 0:
            raise ValueError(f"the still-crop threshold is in grey levels, at least 0; got {threshold}")
        self.threshold = threshold
        self._computed: LruCache[tuple[int, int], _Computed] = LruCache(capacity)

    def match(self, body_id: int, hand: int, reduced: np.ndarray) -> _Computed | None:
        """The computed crop of this hand that a new crop (its `_reduced` form) may reuse, if any."""
        if self.threshold <= 0:
            return None
        last = self._computed.get((body_id, hand))
        if last is None or last.reduced.shape != reduced.shape:
            return None
        return last if _change(reduced, last.reduced) <= self.threshold else None

    def remember(self, body_id: int, hand: int, computed: _Computed) -> None:
        if self.threshold > 0:
            self._computed.put((body_id, hand), computed)


@dataclass(frozen=True, eq=False)
class HandGlimpses:
    """A window's per-hand head inputs and where each came from."""

    values: np.ndarray  # T x 4 x P float32 (0 where absent)
    crops: np.ndarray | None  # T x 4 x 50 x 50 x 3: the crops the CNN read (a still hand's: an earlier one)
    crop_frames: np.ndarray  # T x 4 int: the frame each value's crop was cut from (NO_CROP: none)
    computed: int  # crops that went through the CNN for this window
    reused: int  # crops of this window that reused a still hand's features instead


def gather_hand_glimpses(
    frame_indices: Sequence[int],
    inputs: WindowInputs,
    feature_dim: int,
    compute: Callable[[np.ndarray], np.ndarray],
    cache: GlimpseCache | None = None,
    still: StillCrops | None = None,
) -> HandGlimpses:
    """The window's per-hand values: from `cache`, from a still hand's earlier crop, or `compute`d (one
    batch of N x 50 x 50 x 3 crops -> N x P) for the crops that are new."""
    steps = len(frame_indices)
    values = np.zeros((steps, 4, feature_dim), dtype=np.float32)
    crop_frames = np.full((steps, 4), NO_CROP, dtype=np.int64)
    crops = inputs.crops
    earlier: dict[tuple[int, int], np.ndarray] = {}  # (t, h) -> another frame's crop, the one read
    assigned: list[tuple[int, int, tuple[int, int, int], _Computed]] = []
    this_window: dict[tuple[int, int, int], _Computed] = {}
    to_compute: list[_Computed] = []
    reused = 0
    for t, h in zip(*np.nonzero(inputs.hand_mask), strict=True):
        body_id = inputs.body_ids[HAND_SLOTS[h][0]]
        assert body_id is not None  # a present hand belongs to a body in its slot
        frame = int(frame_indices[t])
        key = (frame, body_id, HAND_SLOTS[h][1])
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            values[t, h], crop_frames[t, h] = hit.value, hit.crop_frame
            if hit.crop is not None:
                earlier[t, h] = hit.crop
            continue
        if crops is None:  # a skeleton without video: no image reaches the model, its value stays 0
            continue
        source = this_window.get(key)
        if source is None:
            reduced = _reduced(crops[t, h])
            source = still.match(body_id, key[2], reduced) if still is not None else None
            if source is None:
                source = _Computed(crops[t, h].copy(), frame, reduced)
                to_compute.append(source)
                if still is not None:
                    still.remember(body_id, key[2], source)
        reused += source.frame != frame
        this_window[key] = source
        assigned.append((t, h, key, source))
    if to_compute:
        for source, value in zip(to_compute, compute(np.stack([c.crop for c in to_compute])), strict=True):
            source.value = value
    for t, h, key, source in assigned:
        assert source.value is not None
        values[t, h], crop_frames[t, h] = source.value, source.frame
        from_earlier = source.frame != key[0]
        if from_earlier:
            earlier[t, h] = source.crop
        if cache is not None:
            cache.put(key, CachedGlimpse(source.value, source.frame, source.crop if from_earlier else None))
    shown = crops
    if earlier and crops is not None:
        shown = crops.copy()
        for (t, h), crop in earlier.items():
            shown[t, h] = crop
    return HandGlimpses(values, shown, crop_frames, len(to_compute), reused)
