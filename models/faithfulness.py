"""Faithfulness: does removing what the explanation points at change the decision more than removing
what it does not?

STA-Hands (`hand_removal_drops`): in each window, at every step where two or more hands are present,
the most-attended present hand is given what an absent hand gets (its glimpse zero and its mask 0, so
the attention's softmax leaves it out); in a second copy of the window, the least-attended present hand
instead (a step whose present hands all have the same attention is left as it is). The drop is the RGB
stream's probability of the class it predicted on the whole window less its probability of that class
on the copy. Windows without a step with two present hands told apart are not counted (there is
nothing to choose between).

The report (`faithfulness_report`, `models.evaluate`'s `faithfulness`): `removed` (what was taken away:
"hands"), `stream` ("rgb"), `windows` counted, `attended_drop_larger` (the share of windows where
removing the most-attended hand drops the probability more), `mean_drop_attended`,
`mean_drop_least_attended`. A pose model's joints (held still at their mean over the window) will give
the same figures under `removed` "joints". Torch-free: the model is a callable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# features B x T x 4 x D, hand mask B x T x 4, pose B x T x 150 -> the RGB stream's B x C probabilities
RgbProbabilities = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class FaithfulnessTally:
    """Per counted window: the drop when the most-attended and when the least-attended part is removed."""

    attended: np.ndarray  # W
    least_attended: np.ndarray  # W
    removed: str = "hands"
    stream: str = "rgb"

    @staticmethod
    def join(parts: Sequence[FaithfulnessTally]) -> FaithfulnessTally | None:
        if not parts:
            return None
        return FaithfulnessTally(
            np.concatenate([p.attended for p in parts]),
            np.concatenate([p.least_attended for p in parts]),
            parts[0].removed,
            parts[0].stream,
        )


def removal_masks(spatial: np.ndarray, hand_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """B x T x 4 spatial attention and hand mask -> (most, least): B x T x 4 bool, at each step with two
    or more present hands that the attention tells apart, the most- and the least-attended present hand
    (all False elsewhere)."""
    present = hand_mask > 0
    highest = np.where(present, spatial, -np.inf).max(axis=-1, keepdims=True)
    lowest = np.where(present, spatial, np.inf).min(axis=-1, keepdims=True)
    chosen = (present.sum(axis=-1, keepdims=True) >= 2) & (highest > lowest)
    most = np.argmax(np.where(present, spatial, -np.inf), axis=-1)
    least = np.argmin(np.where(present, spatial, np.inf), axis=-1)
    slots = np.arange(hand_mask.shape[-1])
    return (slots == most[..., None]) & chosen, (slots == least[..., None]) & chosen


def remove_hands(
    features: np.ndarray, hand_mask: np.ndarray, removed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The inputs with the `removed` hands (B x T x 4 bool) given what an absent hand gets."""
    return np.where(removed[..., None], 0.0, features).astype(features.dtype), np.where(
        removed, 0.0, hand_mask
    ).astype(hand_mask.dtype)


def hand_removal_drops(
    rgb_probabilities: RgbProbabilities,
    features: np.ndarray,
    hand_mask: np.ndarray,
    pose: np.ndarray,
    spatial: np.ndarray,
) -> FaithfulnessTally:
    """The drops of B windows (`features` B x T x 4 x D, `hand_mask` B x T x 4, `pose` B x T x 150, the
    model's `spatial` attention on them B x T x 4), over the windows with a step of two present hands."""
    most, least = removal_masks(spatial, hand_mask)
    counted = most.any(axis=(1, 2))
    if not counted.any():
        return FaithfulnessTally(np.zeros(0), np.zeros(0))
    features, hand_mask, pose = features[counted], hand_mask[counted], pose[counted]
    most, least = most[counted], least[counted]
    without_most = remove_hands(features, hand_mask, most)
    without_least = remove_hands(features, hand_mask, least)
    batch = (
        np.concatenate([features, without_most[0], without_least[0]]),
        np.concatenate([hand_mask, without_most[1], without_least[1]]),
        np.concatenate([pose, pose, pose]),
    )
    probabilities = np.asarray(rgb_probabilities(*batch)).reshape(3, len(features), -1)
    predicted = np.argmax(probabilities[0], axis=1)
    rows = np.arange(len(features))
    whole, no_most, no_least = (p[rows, predicted] for p in probabilities)
    return FaithfulnessTally(whole - no_most, whole - no_least)


def faithfulness_report(tally: FaithfulnessTally | None) -> dict[str, Any] | None:
    """The report's `faithfulness` (see the module docstring; None without a counted window)."""
    if tally is None or not len(tally.attended):
        return None
    return {
        "removed": tally.removed,
        "stream": tally.stream,
        "windows": len(tally.attended),
        "attended_drop_larger": float(np.mean(tally.attended > tally.least_attended)),
        "mean_drop_attended": float(np.mean(tally.attended)),
        "mean_drop_least_attended": float(np.mean(tally.least_attended)),
    }
