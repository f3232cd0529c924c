"""A pose model's explanation: the class relevance of its predicted class, and the sentence that names it.

A pose model has no attention. What it shows instead is its class activation
(`contract.pose_model_contract`): the classifier's weights for the predicted class applied to the last
layer's features, at each time step, joint and person. Its positive part, spread back onto the window's
frames, is the relevance:

- per joint and person (`joint_relevance`, T x 2 x 25, summing to 1 over the window): the skeleton's tint;
- over time (`over_time`, T, summing to 1): the curve "relevance over time";
- per hand tile (`hands`, T x 4: left-1, right-1, left-2, right-2): the share of a frame's positive
  relevance held by that hand's joints (wrist, hand, hand tip, thumb) of that person.

A slot with no body in a frame gets none: relevance on a person who is not there means nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sta_hands.contract.frame import JOINT

LEFT_HAND = (JOINT["WristLeft"], JOINT["HandLeft"], JOINT["HandTipLeft"], JOINT["ThumbLeft"])
RIGHT_HAND = (JOINT["WristRight"], JOINT["HandRight"], JOINT["HandTipRight"], JOINT["ThumbRight"])
HAND_JOINTS = (LEFT_HAND, RIGHT_HAND, LEFT_HAND, RIGHT_HAND)  # per hand slot (`contract.inputs.HAND_SLOTS`)
BODY_PARTS: dict[str, tuple[int, ...]] = {
    "right hand": RIGHT_HAND,
    "right arm": (JOINT["ShoulderRight"], JOINT["ElbowRight"]),
    "left hand": LEFT_HAND,
    "left arm": (JOINT["ShoulderLeft"], JOINT["ElbowLeft"]),
    "head": (JOINT["Neck"], JOINT["Head"]),
    "trunk": (JOINT["SpineBase"], JOINT["SpineMid"], JOINT["SpineShoulder"]),
    "left leg": (JOINT["HipLeft"], JOINT["KneeLeft"], JOINT["AnkleLeft"], JOINT["FootLeft"]),
    "right leg": (JOINT["HipRight"], JOINT["KneeRight"], JOINT["AnkleRight"], JOINT["FootRight"]),
}
ALSO_NAMED = 0.5  # a second body part is named when its relevance per joint is half the first's or more


@dataclass(frozen=True)
class Relevance:
    joint_relevance: np.ndarray  # T x 2 x 25
    over_time: np.ndarray  # T
    hands: np.ndarray  # T x 4


def window_relevance(
    class_activation: np.ndarray, present: np.ndarray, to_window: np.ndarray | None = None
) -> Relevance:
    """The relevance of one class from its activation T' x 25 x 2 (the model's time steps), spread onto
    the T frames the model read; `present`: T x 2, whether each slot has a body in each of those frames.

    `to_window` (T: for each frame the model read, its position in the window shown) folds the relevance
    of a model input filled by repetition back onto the window: each copy's relevance goes to the frame
    it repeats, and a window position no copy came from gets none. The result has the window's length.
    """
    frames = len(present)
    steps = class_activation.shape[0]
    step_of_frame = np.minimum(np.arange(frames) * steps // max(frames, 1), steps - 1)
    positive = np.maximum(class_activation, 0.0).transpose(0, 2, 1)[step_of_frame]  # T x 2 x 25
    positive = positive * present[:, :, None]
    if to_window is not None:
        folded = np.zeros((int(to_window.max()) + 1, *positive.shape[1:]), positive.dtype)
        np.add.at(folded, to_window, positive)
        positive = folded
    total = positive.sum()
    joints = positive / total if total > 0 else np.zeros_like(positive)
    per_frame = joints.sum(axis=(1, 2))
    hands = np.zeros((len(joints), len(HAND_JOINTS)), np.float32)
    for slot, hand in enumerate(HAND_JOINTS):
        held = joints[:, slot // 2, list(hand)].sum(axis=1)
        hands[:, slot] = np.divide(held, per_frame, out=np.zeros_like(held), where=per_frame > 0)
    return Relevance(joints.astype(np.float32), per_frame.astype(np.float32), hands)


def part_shares(joint_relevance: np.ndarray) -> dict[tuple[int, str], float]:
    """(person slot, body part) -> its share of the window's positive relevance."""
    over_window = joint_relevance.sum(axis=0)  # 2 x 25
    return {
        (person, part): float(over_window[person, list(joints)].sum())
        for person in range(over_window.shape[0])
        for part, joints in BODY_PARTS.items()
    }


def relevance_sentence(joint_relevance: np.ndarray, over_time: np.ndarray, timestamps: np.ndarray) -> str:
    """The body parts where the relevance is densest (per joint: a leg's four joints do not outweigh an
    arm's two by number), a second part named when it has at least ALSO_NAMED of the first's density, and
    the moment (the frame's time in the source) where it peaks: "mostly the right hand and arm of person
    1, around 1.2 s"."""
    shares = part_shares(joint_relevance)
    if not shares or max(shares.values()) <= 0:
        return "no positive relevance in this window"
    density = {key: share / len(BODY_PARTS[key[1]]) for key, share in shares.items()}  # per joint
    (person, first), top = max(density.items(), key=lambda item: item[1])
    others = sorted(
        ((value, part) for (p, part), value in density.items() if p == person and part != first), reverse=True
    )
    named = first
    if others and others[0][0] >= ALSO_NAMED * top:
        second = others[0][1]
        side, limb = first.split(" ", 1) if " " in first else ("", first)
        if side and second == f"{side} {'arm' if limb == 'hand' else 'hand'}" and limb in ("hand", "arm"):
            named = f"{side} hand and arm"
        else:
            named = f"{first} and {second}"
    moment = float(timestamps[int(np.argmax(over_time))])
    return f"mostly the {named} of person {person + 1}, around {moment:.1f} s"
