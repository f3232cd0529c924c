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
`mean_drop_least_attended`.

A pose model (`joint_holding_drops`): in each window with someone in view, the HELD_JOINTS joints with
the most relevance over the window (the relevance the explain dialog shows, `app.relevance`: per person
slot and joint, summed over the window's frames) are held still at their mean position over the frames
where that person is present; in other copies, as many joints drawn at random (RANDOM_DRAWS draws, a
fixed seed) from the present people's other joints. The drop is the pose model's probability of its
predicted class on the whole window less that on the copy; the random joints' drop is the mean over the
draws. The report gives the same figures, `least_attended` standing for the random joints, under
`removed` "joints" and `stream` "pose", with `joints_held` and `random_draws`. HELD_JOINTS = 5 joints is
about one body part of the 25 a Kinect body has (a hand is 4, a hand and its arm 6), the granularity the
dialog names ("mostly the right hand and arm").

Torch-free: the model is a callable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sta_hands.contract.pose_model_contract import JOINTS, PEOPLE

# features B x T x 4 x D, hand mask B x T x 4, pose B x T x 150 -> the RGB stream's B x C probabilities
RgbProbabilities = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
# B windows' pose B x T x 150 (`contract.inputs.pose_array`) -> the pose model's B x C probabilities
PoseProbabilities = Callable[[np.ndarray], np.ndarray]
HELD_JOINTS = 5  # about one body part (see the module docstring)
RANDOM_DRAWS = 4


@dataclass(frozen=True)
class FaithfulnessTally:
    """Per counted window: the drop when the most-attended and when the least-attended part is removed
    (a pose model's joints: the most relevant joints and as many random ones)."""

    attended: np.ndarray  # W
    least_attended: np.ndarray  # W
    removed: str = "hands"
    stream: str = "rgb"
    extra: tuple[tuple[str, Any], ...] = ()  # more report entries: how many joints were held

    @staticmethod
    def join(parts: Sequence[FaithfulnessTally]) -> FaithfulnessTally | None:
        if not parts:
            return None
        return FaithfulnessTally(
            np.concatenate([p.attended for p in parts]),
            np.concatenate([p.least_attended for p in parts]),
            parts[0].removed,
            parts[0].stream,
            parts[0].extra,
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


def hold_joints(pose: np.ndarray, held: np.ndarray) -> np.ndarray:
    """One window's pose T x 150 with the `held` joints (PEOPLE x JOINTS bool) still at their mean
    position over the frames where their person is present (a frame without that person stays empty)."""
    bodies = pose.reshape(len(pose), PEOPLE, JOINTS, 3)
    present = bodies.any(axis=(2, 3))[:, :, None, None]  # T x 2 x 1 x 1
    mean = (bodies * present).sum(axis=0) / np.maximum(present.sum(axis=0), 1)  # 2 x 25 x 3
    still = np.where(held[None, :, :, None] & present, mean[None], bodies)
    return still.reshape(pose.shape).astype(pose.dtype)


def chosen_joints(
    joint_relevance: np.ndarray, present: np.ndarray, rng: np.random.Generator, held: int, draws: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """One window's relevance T x 2 x 25 and its people's presence (2: in any frame) -> the `held` most
    relevant joints (2 x 25 bool) and `draws` sets of as many others drawn at random (draws x 2 x 25);
    None when nothing is relevant or there are too few other joints to draw from."""
    over_window = joint_relevance.sum(axis=0).reshape(-1)  # person-major, as the 2 x 25 masks
    candidates = np.flatnonzero(np.repeat(present, JOINTS))
    if over_window.sum() <= 0 or len(candidates) < 2 * held:
        return None
    order = candidates[np.argsort(-over_window[candidates], kind="stable")]
    most = np.zeros(PEOPLE * JOINTS, bool)
    most[order[:held]] = True
    random = np.zeros((draws, PEOPLE * JOINTS), bool)
    for draw in range(draws):
        random[draw, rng.choice(order[held:], held, replace=False)] = True
    return most.reshape(PEOPLE, JOINTS), random.reshape(draws, PEOPLE, JOINTS)


def joint_holding_drops(
    pose_probabilities: PoseProbabilities,
    pose: np.ndarray,
    joint_relevance: np.ndarray,
    held: int = HELD_JOINTS,
    draws: int = RANDOM_DRAWS,
    seed: int | Sequence[int] = 0,
) -> FaithfulnessTally:
    """The drops of W windows (`pose` W x T x 150, the relevance the model gave each W x T x 2 x 25) over
    the windows with someone in view and some positive relevance; `seed` picks the random joints."""
    rng = np.random.default_rng(seed)
    present = pose.reshape(*pose.shape[:2], PEOPLE, JOINTS * 3).any(axis=(1, 3))  # W x 2
    copies, counted = [], []
    for window, relevance, people in zip(pose, joint_relevance, present, strict=True):
        chosen = chosen_joints(relevance, people, rng, held, draws)
        if chosen is not None:
            counted.append(window)
            copies += [hold_joints(window, joints) for joints in (chosen[0], *chosen[1])]
    extra = (("joints_held", held), ("random_draws", draws))
    if not counted:
        return FaithfulnessTally(np.zeros(0), np.zeros(0), "joints", "pose", extra)
    whole = np.asarray(pose_probabilities(np.stack(counted)))
    held_copies = np.asarray(pose_probabilities(np.stack(copies))).reshape(len(counted), 1 + draws, -1)
    rows = np.arange(len(counted))
    predicted = np.argmax(whole, axis=1)
    drops = whole[rows, predicted][:, None] - held_copies[rows, :, predicted]  # W x (1 + draws)
    return FaithfulnessTally(drops[:, 0], drops[:, 1:].mean(axis=1), "joints", "pose", extra)


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
        **dict(tally.extra),
    }
