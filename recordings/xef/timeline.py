"""The frames of an .xef file in time: colour and body events paired by nearest timestamp.

Colour and body events have independent timestamps, and the tag frame numbers of different streams
are not known to be comparable [H] (xef-format.md 8), so events pair when each is the other's nearest
and they lie within a gap. Frames follow the colour events in time order (or the body events when
there is no colour). Colour runs at 30 fps, 15 in low light [MS].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sta_hands.recordings.xef.container import TICKS_PER_SECOND
from sta_hands.recordings.xef.streams import Events

NOMINAL_FPS = 30.0  # [MS] colour runs at 30 fps, 15 in low light
LOW_LIGHT_FPS = 15.0  # [MS]
DEFAULT_PAIR_GAP = 0.5 / NOMINAL_FPS  # [H] colour and body events further apart than this are not paired


def _nearest(reference: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each query, the index of the nearest value in sorted `reference` (earlier on ties); -1 if empty."""
    if reference.size == 0:
        return np.full(queries.shape, -1, dtype=np.int64)
    right = np.clip(np.searchsorted(reference, queries), 0, reference.size - 1)
    left = np.clip(right - 1, 0, reference.size - 1)
    take_right = np.abs(reference[right] - queries) < np.abs(queries - reference[left])
    return np.where(take_right, right, left).astype(np.int64)


def pair_by_time(first: np.ndarray, second: np.ndarray, max_gap: int) -> np.ndarray:
    """For each time in sorted `first`, the index of its partner in sorted `second`, or -1.

    Two events pair when each is the other's nearest and they are at most `max_gap` apart, so every
    event pairs at most once.
    """
    first, second = np.asarray(first, np.int64), np.asarray(second, np.int64)
    forward = _nearest(second, first)
    if second.size == 0:
        return forward
    backward = _nearest(first, second)
    mutual = backward[forward] == np.arange(first.size)
    close = np.abs(second[forward] - first) <= max_gap
    return np.where(mutual & close, forward, -1)


@dataclass(frozen=True)
class Timeline:
    """The frames: per frame, its colour and body event numbers (-1: none) and its time in ticks."""

    color: np.ndarray
    body: np.ndarray
    ticks: np.ndarray
    unpaired_color: int
    unpaired_body: int
    largest_gap: float  # seconds between a frame's colour and body events, at most

    def seconds(self) -> np.ndarray:
        """Seconds from the first frame, per frame."""
        if not self.ticks.size:
            return np.zeros(0)
        return (self.ticks - self.ticks[0]) / TICKS_PER_SECOND

    def pairs(self, has_body: bool) -> dict[str, Any]:
        """How the colour and body events paired, as `XefFile.describe()` reports it."""
        return {
            "paired": int((self.body >= 0).sum()) if has_body else 0,
            "color_without_body": self.unpaired_color,
            "bodies_without_color": self.unpaired_body,
            "largest_gap_s": self.largest_gap,
        }


def timeline(color: Events | None, body: Events | None, max_gap: int) -> Timeline:
    """Frames follow the colour events in time order (or the body events when there is no colour)."""
    body_times = body.times() if body is not None else np.zeros(0, dtype=np.int64)
    body_order = np.argsort(body_times, kind="stable")
    body_sorted = body_times[body_order]
    if color is None:
        no_color = np.full(body_order.size, -1, dtype=np.int64)
        return Timeline(no_color, body_order, body_sorted, 0, 0, 0.0)
    color_times = color.times()
    color_order = np.argsort(color_times, kind="stable")
    color_sorted = color_times[color_order]
    partner = pair_by_time(color_sorted, body_sorted, max_gap)
    paired = partner >= 0
    frame_body = np.where(paired, body_order[np.maximum(partner, 0)], -1) if body_order.size else partner
    gaps = np.abs(body_sorted[partner[paired]] - color_sorted[paired])
    largest = float(gaps.max()) / TICKS_PER_SECOND if gaps.size else 0.0
    count = int(paired.sum())
    return Timeline(
        color_order, frame_body, color_sorted, color_order.size - count, body_order.size - count, largest
    )


def frame_rate(timestamps: np.ndarray) -> float:
    """Frame rate from the median frame interval, snapped to 30 or 15 (Kinect v2) when within 2%."""
    if timestamps.size < 2:
        return NOMINAL_FPS
    interval = float(np.median(np.diff(timestamps)))
    if interval <= 0:
        return NOMINAL_FPS
    rate = 1.0 / interval
    for nominal in (NOMINAL_FPS, LOW_LIGHT_FPS):
        if abs(rate - nominal) <= 0.02 * nominal:
            return nominal
    return rate
