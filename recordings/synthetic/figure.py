"""The performers' bodies: proportions by height, and pose parameters -> Kinect v2's 25 joints.

A `Track` holds one person's pose parameters per frame (pelvis drop, trunk pitch, hand goals);
`pose_skeleton` turns it into joints by forward and two-bone inverse kinematics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sta_hands.contract.frame import JOINT as J
from sta_hands.contract.frame import NUM_JOINTS
from sta_hands.recordings.synthetic.plan import LEFT, PERFORMERS_PER_REPLICATION, RIGHT

HEIGHT_RANGE_M = (1.5, 1.9)


# ----------------------------------------------------------------------------------------- performers


@dataclass(frozen=True)
class Proportions:
    """One performer's build in metres: Kinect-like joint placement, scaled by height.

    `pelvis` is SpineBase above the floor; `spine_mid` ... `head` are heights above SpineBase.
    """

    height: float
    pelvis: float
    hip_half: float  # HipLeft/HipRight beside SpineBase
    hip_down: float
    thigh: float
    shank: float
    ankle: float  # ankle above the floor
    ankle_half: float  # feet apart
    foot: float
    spine_mid: float
    spine_shoulder: float
    neck: float
    head: float
    shoulder_half: float
    shoulder_drop: float  # shoulders below SpineShoulder
    upper_arm: float
    forearm: float
    wrist_hand: float
    hand_tip: float
    thumb: float

    @classmethod
    def of_height(cls, height: float) -> Proportions:
        return cls(height=height, **{name: share * height for name, share in _SHARE_OF_HEIGHT.items()})

    @property
    def arm(self) -> float:
        """Shoulder to hand joint, straight."""
        return self.upper_arm + self.forearm + self.wrist_hand


_SHARE_OF_HEIGHT = {
    "pelvis": 0.51, "hip_half": 0.05, "hip_down": 0.01, "thigh": 0.235, "shank": 0.235,
    "ankle": 0.04, "ankle_half": 0.06, "foot": 0.08,
    "spine_mid": 0.15, "spine_shoulder": 0.27, "neck": 0.30, "head": 0.37,
    "shoulder_half": 0.085, "shoulder_drop": 0.015,
    "upper_arm": 0.17, "forearm": 0.15, "wrist_hand": 0.04, "hand_tip": 0.045, "thumb": 0.03,
}  # fmt: skip


def performer_height(performer: int) -> float:
    """A performer's height in metres, the same in every clip (drawn from the performer id)."""
    low, high = HEIGHT_RANGE_M
    return float(np.random.default_rng([0x5EED, performer]).uniform(low, high))


def partner_of(performer: int) -> int:
    """The second person of a two-person clip: the next performer."""
    return performer % PERFORMERS_PER_REPLICATION + 1


# --------------------------------------------------------------------------------- pose -> 25 joints


@dataclass
class Track:
    """Pose parameters of one person over T frames, in the body's own frame.

    Body frame: x = the person's left, y = up, z = forward (where the person faces); the origin is on
    the floor under the pelvis. `goal` is where each hand joint (left, right) heads for, `weight`
    blends it with the hanging rest position (0 rest, 1 at the goal).
    """

    frames: int
    drop: np.ndarray = field(init=False)  # T: pelvis lowering (squat), metres
    pitch: np.ndarray = field(init=False)  # T: trunk bend forward (bow), radians
    goal: np.ndarray = field(init=False)  # T x 2 x 3
    weight: np.ndarray = field(init=False)  # T x 2
    idle: np.ndarray = field(init=False)  # T x 2 x 3: small drift of the resting hands

    def __post_init__(self) -> None:
        self.drop = np.zeros(self.frames)
        self.pitch = np.zeros(self.frames)
        self.goal = np.zeros((self.frames, 2, 3))
        self.weight = np.zeros((self.frames, 2))
        self.idle = np.zeros((self.frames, 2, 3))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def two_bone(
    root: np.ndarray, target: np.ndarray, first: float, second: float, pole: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(middle joint, end joint) of a two-segment limb from `root` towards `target` (T x 3 each).

    The middle joint bends towards `pole`; a target out of reach is approached in a straight line.
    """
    offset = target - root
    distance = np.clip(np.linalg.norm(offset, axis=-1, keepdims=True), abs(first - second) + 1e-3,
                       first + second - 1e-4)  # fmt: skip
    direction = _unit(offset)
    along = (first**2 - second**2 + distance**2) / (2 * distance)
    across = np.sqrt(np.maximum(first**2 - along**2, 0.0))
    bend = _unit(pole - np.sum(pole * direction, axis=-1, keepdims=True) * direction)
    return root + direction * along + bend * across, root + direction * distance


def rest_hands(body: Proportions, shoulders: np.ndarray) -> np.ndarray:
    """T x 2 x 3 hand positions of arms hanging from the shoulders (T x 2 x 3, left and right)."""
    outward = np.array([[0.03, 0.0, 0.0], [-0.03, 0.0, 0.0]])
    return shoulders + outward + np.array([0.0, -0.96 * body.arm, 0.04])


def pose_skeleton(body: Proportions, track: Track) -> np.ndarray:
    """T x 25 x 3 joints in the body frame (see `Track`)."""
    t = track.frames
    joints = np.zeros((t, NUM_JOINTS, 3))
    lateral = np.array([1.0, 0.0, 0.0])
    base = np.stack([np.zeros(t), body.pelvis - track.drop, np.zeros(t)], axis=1)
    up = np.stack([np.zeros(t), np.cos(track.pitch), np.sin(track.pitch)], axis=1)
    forward = np.stack([np.zeros(t), -np.sin(track.pitch), np.cos(track.pitch)], axis=1)

    joints[:, J["SpineBase"]] = base
    joints[:, J["SpineMid"]] = base + up * body.spine_mid
    joints[:, J["SpineShoulder"]] = base + up * body.spine_shoulder
    joints[:, J["Neck"]] = base + up * body.neck
    joints[:, J["Head"]] = base + up * body.head + forward * 0.015 * body.height
    top = joints[:, J["SpineShoulder"]] - up * body.shoulder_drop
    shoulders = np.stack([top + lateral * body.shoulder_half, top - lateral * body.shoulder_half], axis=1)
    joints[:, J["ShoulderLeft"]], joints[:, J["ShoulderRight"]] = shoulders[:, 0], shoulders[:, 1]

    _legs(body, base, joints)
    _arms(body, track, shoulders, forward, joints)
    return joints


def _legs(body: Proportions, base: np.ndarray, joints: np.ndarray) -> None:
    """Hips under the pelvis, ankles planted on the floor, knees bending forward."""
    pole = np.array([0.0, 0.0, 1.0])
    for sign, names in ((1.0, ("HipLeft", "KneeLeft", "AnkleLeft", "FootLeft")),
                        (-1.0, ("HipRight", "KneeRight", "AnkleRight", "FootRight"))):  # fmt: skip
        hip = base + np.array([sign * body.hip_half, -body.hip_down, 0.0])
        ankle = np.broadcast_to(np.array([sign * body.ankle_half, body.ankle, 0.0]), hip.shape)
        knee, ankle = two_bone(hip, ankle, body.thigh, body.shank, pole)
        foot = ankle + np.array([0.0, -0.7 * body.ankle, body.foot])
        for name, value in zip(names, (hip, knee, ankle, foot), strict=True):
            joints[:, J[name]] = value


def _arms(
    body: Proportions, track: Track, shoulders: np.ndarray, forward: np.ndarray, joints: np.ndarray
) -> None:
    """Each hand between its rest position and its goal; elbows down, out and back."""
    rest = rest_hands(body, shoulders) + track.idle
    target = rest + track.weight[:, :, None] * (track.goal - rest)
    names = (("ElbowLeft", "WristLeft", "HandLeft", "HandTipLeft", "ThumbLeft"),
             ("ElbowRight", "WristRight", "HandRight", "HandTipRight", "ThumbRight"))  # fmt: skip
    for side, sign in ((LEFT, 1.0), (RIGHT, -1.0)):
        pole = np.array([0.5 * sign, -1.0, -0.5])
        elbow, hand = two_bone(
            shoulders[:, side], target[:, side], body.upper_arm, body.forearm + body.wrist_hand, pole
        )
        along = _unit(hand - elbow)
        medial = np.array([-sign, 0.0, 0.0])
        values = (
            elbow, elbow + along * body.forearm, hand, hand + along * body.hand_tip,
            hand + _unit(along + 0.9 * medial + 0.4 * forward) * body.thumb,
        )  # fmt: skip
        for name, value in zip(names[side], values, strict=True):
            joints[:, J[name]] = value
