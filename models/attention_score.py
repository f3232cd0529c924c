"""The attention score: does the highest spatial attention sit on a hand that acts?

Counted on every sampled frame where at least one hand acts (synthetic clips: the sidecar says which),
one acting hand or several (a "give object" or a "handshake" has two): a hit is the highest spatial
attention on a present hand that acts. Rules with no parameters are scored on exactly the same frames:
- `uniform`: a random pick among the present hands, in expectation (the acting present hands over the
  present ones; 0 when no acting hand is present);
- `fastest_hand`: the present hand whose joint moved most in camera space (metres, the raw pose) since
  the previous sampled frame (the first frame of a window takes the second's move, as the model's
  velocity does; a body absent in either frame counts as still);
- `same_slot`: always one slot, the one that acts on the most of the evaluated frames (chosen on those
  frames themselves, over every class: an optimistic constant that does not know the class).

`attention_frames` keeps, per clip, what the score and the rules need of each counted frame;
`attention_report` tallies them over every frame, per class, and apart for frames with one and with two
or more acting hands (`models.evaluate`'s report). Torch-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sta_hands.contract.body_slots import NUM_BODIES
from sta_hands.contract.inputs import HAND_NAMES, HAND_SLOTS, NUM_HANDS

RULES = ("uniform", "fastest_hand", "same_slot")
GROUPS = ("all", "one_acting_hand", "two_or_more_acting_hands")


@dataclass(frozen=True)
class AttentionFrames:
    """The counted frames of a clip (N: sampled frames with at least one acting hand)."""

    acting: np.ndarray  # N x 4 bool: the hands that act
    present: np.ndarray  # N x 4 bool: the hands the model saw
    attended: np.ndarray  # N int: the hand with the highest spatial attention
    fastest: np.ndarray  # N int: the present hand that moved most (-1: none present)

    @staticmethod
    def join(parts: Sequence[AttentionFrames]) -> AttentionFrames:
        if not parts:
            return AttentionFrames(
                np.zeros((0, NUM_HANDS), bool),
                np.zeros((0, NUM_HANDS), bool),
                np.zeros(0, int),
                np.zeros(0, int),
            )
        return AttentionFrames(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))

    def subset(self, keep: np.ndarray) -> AttentionFrames:
        return AttentionFrames(*(getattr(self, f)[keep] for f in _FIELDS))

    def __len__(self) -> int:
        return len(self.attended)

    def hits(self) -> np.ndarray:
        """N bool: the highest attention on a present acting hand."""
        return _picked(self.acting & self.present, self.attended)


_FIELDS = ("acting", "present", "attended", "fastest")


def _picked(allowed: np.ndarray, choice: np.ndarray) -> np.ndarray:
    """N bool: `choice` (N slots, -1 for none) is one of the `allowed` (N x 4) slots."""
    rows = np.arange(len(choice))
    return (choice >= 0) & allowed[rows, np.clip(choice, 0, None)]


def hand_moves(pose: np.ndarray) -> np.ndarray:
    """... x T x 4: how far each hand joint moved (camera metres) since the previous sampled frame, from
    ... x T x 150 raw poses; frame 0 takes frame 1's move (0 in a window of one frame); 0 for a body
    absent in either frame."""
    joints = pose.reshape(*pose.shape[:-1], NUM_BODIES, -1, 3)  # ... x T x bodies x joints x 3
    hands = np.stack([joints[..., b, j, :] for b, j in HAND_SLOTS], axis=-2)  # ... x T x 4 x 3
    present = np.stack([np.abs(joints[..., b, :, :]).sum(axis=(-1, -2)) > 0 for b, _ in HAND_SLOTS], -1)
    moves = np.linalg.norm(np.diff(hands, axis=-3), axis=-1)  # ... x T-1 x 4
    moves = moves * (present[..., 1:, :] & present[..., :-1, :])
    if not moves.shape[-2]:  # one frame: nothing moved
        return np.zeros(present.shape, np.float32)
    return np.concatenate([moves[..., :1, :], moves], axis=-2)


def attention_frames(
    spatial: np.ndarray, active: np.ndarray, hand_mask: np.ndarray, pose: np.ndarray
) -> AttentionFrames:
    """The counted frames of ... x T x 4 spatial attention, acting hands and hand mask and ... x T x 150
    raw poses (the windows of one clip)."""
    moves = hand_moves(pose).reshape(-1, NUM_HANDS)
    acting = active.reshape(-1, NUM_HANDS) > 0
    present = hand_mask.reshape(-1, NUM_HANDS) > 0
    spatial = spatial.reshape(-1, NUM_HANDS)
    counted = acting.any(axis=1)
    fastest = np.argmax(np.where(present, moves, -np.inf), axis=1)
    fastest = np.where(present.any(axis=1), fastest, -1)
    attended = np.argmax(np.where(present, spatial, -np.inf), axis=1)
    attended = np.where(present.any(axis=1), attended, -1)
    return AttentionFrames(acting[counted], present[counted], attended[counted], fastest[counted])


def attention_report(
    frames_per_clip: Sequence[AttentionFrames | None], labels: Sequence[int], class_names: Sequence[str]
) -> dict[str, Any]:
    """The report's attention entries from each clip's counted frames (None: a clip without them, e.g. a
    model without spatial attention) and its label:
    - `attention_score`, `attention_frames`, `attention_baselines` ({rule: share}): over every counted
      frame (the headline figures; null without frames), `attention_same_slot`: the slot `same_slot` picks;
    - `attention`: {`all`, `one_acting_hand`, `two_or_more_acting_hands`: a tally, `per_class`: {class:
      {the same three tallies}}}, a tally {`frames`, `score`, `rules`: {rule: share}}, null without frames.
    """
    known = [(f, label) for f, label in zip(frames_per_clip, labels, strict=True) if f is not None]
    everything = AttentionFrames.join([f for f, _ in known])
    if not len(everything):
        empty = {"attention_score": None, "attention_frames": 0, "attention_baselines": None}
        return {**empty, "attention_same_slot": None, "attention": None}
    slot = int(np.argmax((everything.acting & everything.present).sum(axis=0)))
    clip_of_frame = np.concatenate([np.full(len(f), label) for f, label in known])
    per_class = {
        name: _groups(everything.subset(clip_of_frame == c), slot) for c, name in enumerate(class_names)
    }
    overall = _groups(everything, slot)
    headline = overall["all"]
    assert headline is not None
    return {
        "attention_score": headline["score"],
        "attention_frames": headline["frames"],
        "attention_baselines": headline["rules"],
        "attention_same_slot": HAND_NAMES[slot],
        "attention": {**overall, "per_class": per_class},
    }


def _groups(frames: AttentionFrames, slot: int) -> dict[str, dict[str, Any] | None]:
    acting = frames.acting.sum(axis=1)
    keep = {"all": acting >= 1, "one_acting_hand": acting == 1, "two_or_more_acting_hands": acting >= 2}
    return {group: _tally(frames.subset(keep[group]), slot) for group in GROUPS}


def _tally(frames: AttentionFrames, slot: int) -> dict[str, Any] | None:
    """{`frames`, `score`, `rules`} of these frames (None when there are none)."""
    count = len(frames)
    if not count:
        return None
    acting_present = frames.acting & frames.present
    uniform = acting_present.sum(axis=1) / np.maximum(frames.present.sum(axis=1), 1)
    return {
        "frames": count,
        "score": float(frames.hits().mean()),
        "rules": {
            "uniform": float(uniform.mean()),
            "fastest_hand": float(_picked(acting_present, frames.fastest).mean()),
            "same_slot": float(acting_present[:, slot].mean()),
        },
    }


def attention_text(report: dict[str, Any]) -> str | None:
    """The attention figures of a report in one line (None without them)."""
    if report.get("attention_score") is None:
        return None
    rules = report["attention_baselines"]
    text = (
        f"attention score {report['attention_score']:.3f} ({report['attention_frames']} frames with an "
        f"acting hand; on the same frames: uniform {rules['uniform']:.3f}, "
        f"same slot {rules['same_slot']:.3f}, fastest hand {rules['fastest_hand']:.3f})"
    )
    groups = report.get("attention") or {}
    two = groups.get("two_or_more_acting_hands")
    if two is not None:
        text += (
            f"; two or more acting hands {two['score']:.3f} ({two['frames']} frames; fastest hand "
            f"{two['rules']['fastest_hand']:.3f})"
        )
    return text
