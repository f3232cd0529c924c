"""Which bodies the model reads, and in which slot: the one rule that the model and every view follow.

A source lists its bodies in an order of its own (a Kinect by sensor slot, an NTU file in either
order from frame to frame, with a spurious third body now and then). The model has two body slots;
slot k holds the hands 2k (left) and 2k + 1 (right). The slots are filled here and nowhere else:

- `select_main_bodies`: over a whole clip (training, evaluation), the NTU authors' rule: bodies are
  grouped by tracking id; spurious ones (x-spread > 0.8 * y-spread in at least 69.754% of their
  frames: a chair, a wall) are dropped unless none would remain; the rest are ranked by the summed
  variance of their joints' x, y and z; the two best are ordered by first appearance.
- `BodySlots`: live, over a sliding window: a body keeps its slot for as long as it appears in the
  window, whatever order the frames list it in; a free slot goes to the best newcomer by the same
  rule (the first to appear taking the lower slot), so "person 1" never jumps between people.

Both give the body ids in slot order, `None` for an empty slot; `bodies_by_slot` looks them up per frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sta_hands.contract.frame import Body

NUM_BODIES = 2
SPREAD_RATIO = 0.8  # a frame is "wide" when x-spread > 0.8 * y-spread
SPURIOUS_FRAME_RATIO = 0.69754  # a body wide in this share of its frames is noise (NTU preparation scripts)
PLAUSIBLE_METRES = 100.0  # a Kinect v2 sees up to 8 m: a larger camera-space value is corrupt data

BodyIds = tuple[int | None, ...]


@dataclass
class _Track:
    """All appearances of one tracking ID."""

    first_seen: tuple[int, int]  # (frame, place in that frame's list)
    joints: list[np.ndarray]


def _tracks(frames: Sequence[Sequence[Body]]) -> dict[int, _Track]:
    tracks: dict[int, _Track] = {}
    for t, bodies in enumerate(frames):
        for place, body in enumerate(bodies):
            track = tracks.setdefault(body.id, _Track((t, place), []))
            track.joints.append(body.joints)
    return tracks


def _plausible(values: np.ndarray) -> np.ndarray:
    """Finite and within +-PLAUSIBLE_METRES: what is not is corrupt data, treated as missing."""
    with np.errstate(invalid="ignore"):
        return np.abs(values) <= PLAUSIBLE_METRES


def _spread(values: np.ndarray) -> np.ndarray:
    """Per frame, max - min of the plausible values (-inf for a frame with none)."""
    finite = _plausible(values)
    return np.where(finite, values, -np.inf).max(axis=1) - np.where(finite, values, np.inf).min(axis=1)


def _wide_frames(joints: np.ndarray) -> np.ndarray:
    """Per frame, True when the body is wider than tall: x-spread > 0.8 * y-spread (a chair, a wall...)."""
    return _spread(joints[..., 0]) > SPREAD_RATIO * _spread(joints[..., 1])


def _motion(joints: np.ndarray) -> float:
    """Summed variance of the x, y and z of all the body's joints over its frames."""
    points = joints.reshape(-1, 3)
    points = points[_plausible(points).all(axis=1)]
    return float(points.var(axis=0).sum()) if len(points) else 0.0


def _score(joints: np.ndarray) -> float | None:
    """The body's motion, or None when it is spurious (wide in most of its frames)."""
    wide = _wide_frames(joints)
    if wide.mean() >= SPURIOUS_FRAME_RATIO:
        return None
    if wide.any():  # judge a mostly-valid body on its valid frames too, as the reference does
        return min(_motion(joints), _motion(joints[~wide]))
    return _motion(joints)


def _ranked(tracks: dict[int, _Track]) -> list[int]:
    """Tracking ids that may fill a slot, best first; spurious ones only when nothing else is there."""
    stacked = {body_id: np.stack(track.joints) for body_id, track in tracks.items()}
    scores = {body_id: _score(joints) for body_id, joints in stacked.items()}
    if all(score is None for score in scores.values()):
        scores = {body_id: _motion(joints) for body_id, joints in stacked.items()}
    candidates = [body_id for body_id, score in scores.items() if score is not None]
    return sorted(candidates, key=lambda body_id: (-(scores[body_id] or 0.0), tracks[body_id].first_seen))


def select_main_bodies(frames: Sequence[Sequence[Body]], count: int = NUM_BODIES) -> list[int]:
    """Tracking IDs of the `count` main bodies of a clip, ordered by first appearance (module doc)."""
    tracks = _tracks(frames)
    return sorted(_ranked(tracks)[:count], key=lambda body_id: tracks[body_id].first_seen)


def bodies_by_slot(
    frames: Sequence[Sequence[Body]], body_ids: Sequence[int | None]
) -> list[list[Body | None]]:
    """Per frame, the body of each slot's tracking ID (None where that ID is absent or the slot empty)."""
    slots = []
    for bodies in frames:
        by_id = bodies_by_id(bodies)
        slots.append([None if body_id is None else by_id.get(body_id) for body_id in body_ids])
    return slots


def bodies_by_id(bodies: Sequence[Body]) -> dict[int, Body]:
    """A frame's bodies by tracking ID, the first of each ID (a repeated ID is a sensor glitch)."""
    by_id: dict[int, Body] = {}
    for body in bodies:
        by_id.setdefault(body.id, body)
    return by_id


def padded(body_ids: Sequence[int | None], count: int = NUM_BODIES) -> BodyIds:
    """`body_ids` as exactly `count` slots, `None` for the empty ones."""
    return (*body_ids, *([None] * (count - len(body_ids))))[:count]


class BodySlots:
    """Stable slots over a sliding window (module doc): call `assign` with each window's bodies, in order."""

    def __init__(self, count: int = NUM_BODIES) -> None:
        self._ids: list[int | None] = [None] * count

    @property
    def body_ids(self) -> BodyIds:
        return tuple(self._ids)

    def reset(self) -> None:
        """Forget who held which slot (after a seek, or when another source starts)."""
        self._ids = [None] * len(self._ids)

    def assign(self, frames: Sequence[Sequence[Body]]) -> BodyIds:
        """The slots for a window of frames (oldest first): holders still in the window keep theirs."""
        tracks = _tracks(frames)
        eligible = _ranked(tracks)
        self._ids = [body_id if body_id in eligible else None for body_id in self._ids]
        free = [k for k, body_id in enumerate(self._ids) if body_id is None]
        newcomers = [body_id for body_id in eligible if body_id not in self._ids][: len(free)]
        newcomers.sort(key=lambda body_id: tracks[body_id].first_seen)
        for slot, body_id in zip(free, newcomers, strict=False):
            self._ids[slot] = body_id
        return self.body_ids
