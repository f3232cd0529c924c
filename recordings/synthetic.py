"""Synthetic clips in the exact NTU RGB+D layout: articulated people whose hands hold coloured objects.

Real NTU RGB+D cannot be shipped, so tests, the demo model and benchmarks train on clips made here and
written through the app's own recording writer (`recordings.own`), so every reader and trainer runs
its real code on them.

The classes are chosen so that the paper's claims can be checked (see `ACTIONS`):

- motion groups whose classes share one motion generator and differ only in what the acting hand
  holds ("drink from cup" / "answer phone" / "touch head"; "reach holding ball" / "reach holding
  box"): a pose-only model is at chance inside a group, the hand crops decide;
- classes that differ in which hand acts ("wave left hand" / "wave right hand");
- two-person interactions ("give object", "handshake");
- classes that differ in body motion only ("squat", "bow").

The idle hand holds a random distractor object half of the time, so a model that sums the hands
cannot tell which object matters: the pose has to point at the moving hand.

How a clip is made, top to bottom:

1. `plan_clips` names clips `SsssCcccPpppRrrrAaaa` (class innermost, then camera, then performer).
2. `simulate_clip` draws everything from ``np.random.default_rng([seed, clip index])``, split into
   independent streams: the motion stream does not depend on the class inside a motion group, so two
   clips of one group with the same index have identical skeletons.
   Each person is a `Track` of pose parameters per frame (pelvis drop, trunk pitch, hand goals) that
   a motion generator fills; `pose_skeleton` turns it into Kinect v2's 25 joints by forward and
   two-bone inverse kinematics; the scene places people, rotates it for camera 1/2/3 (0, +45, -45
   degrees about the vertical axis) and projects it like a Kinect v2.
3. `render_image` draws each frame with OpenCV primitives over a per-clip background.
4. `write_clip` writes it through `RecordingWriter`; `generate_dataset` does many in a process pool.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from recordings.errors import RecordingError
from recordings.frame import COLOR_SIZE, INFERRED, NUM_JOINTS, TRACKED, Body, Frame
from recordings.frame import JOINT as J
from recordings.ntu import SampleName
from recordings.own import RecordingWriter

GENERATOR_VERSION = 1
FPS = 30.0
DURATION_S = (1.3, 2.2)  # clip length range: 39-66 frames at 30 fps
MIN_FRAMES = 8  # shortest `frames` override: idle, rise, hold, fall and idle again
JPEG_QUALITY = 80  # the writer's default is 90; 80 halves the encoding time on 1080p frames

# Kinect v2-like pinhole models. The colour image is mirrored as NTU's: colorX grows with camera x.
COLOR_F, COLOR_C = 1060.0, (960.0, 540.0)
DEPTH_F, DEPTH_C = 365.0, (256.0, 212.0)
CAMERA_YAW_DEG = {1: 0.0, 2: 45.0, 3: -45.0}  # NTU's three cameras: the scene rotated about +y
BODY_ID_BASE = 72057594037931101  # 2**56 + 3165, as in NTU

PERFORMERS_PER_REPLICATION = 40  # as NTU RGB+D 60: P001-P040, then R002, then the next setup
HEIGHT_RANGE_M = (1.5, 1.9)
JOINT_NOISE_M = 0.01
DISTRACTOR_PROBABILITY = 0.5

LEFT, RIGHT = 0, 1  # hand sides; hand slot = 2 * person + side (left-1, right-1, left-2, right-2)
SIDE_NAMES = ("left", "right")
OBJECTS: tuple[str, ...] = ("cup", "phone", "ball", "box")


# --------------------------------------------------------------------------------------- the classes


@dataclass(frozen=True)
class ActionClass:
    """One synthetic class: which motion, what the acting hand holds and which hand acts.

    `held`: one of `OBJECTS`, ``"any"`` (one drawn per clip) or None (empty hand).
    `hand`: ``"either"`` (left or right drawn per clip), ``"left"``, ``"right"`` or ``"none"``
    (body motion only). Two-person classes act with the right hands of both people.
    """

    name: str
    motion: str  # a key of MOTIONS
    held: str | None = None
    hand: str = "either"
    people: int = 1


ACTIONS: tuple[ActionClass, ...] = (
    # (a) one motion, the object decides
    ActionClass("drink from cup", "hand_to_head", held="cup"),
    ActionClass("answer phone", "hand_to_head", held="phone"),
    ActionClass("touch head", "hand_to_head"),
    ActionClass("reach holding ball", "reach", held="ball"),
    ActionClass("reach holding box", "reach", held="box"),
    # (b) which hand acts decides
    ActionClass("wave left hand", "wave", hand="left"),
    ActionClass("wave right hand", "wave", hand="right"),
    # (d) body motion only
    ActionClass("squat", "squat", hand="none"),
    ActionClass("bow", "bow", hand="none"),
    # (c) two people
    ActionClass("give object", "give", held="any", hand="right", people=2),
    ActionClass("handshake", "handshake", hand="right", people=2),
)
SYNTHETIC_CLASSES: tuple[str, ...] = tuple(action.name for action in ACTIONS)


# --------------------------------------------------------------------------------------- clip planning


@dataclass(frozen=True)
class ClipSpec:
    """One clip to make: its NTU name fields, its class and where its randomness comes from."""

    index: int  # position in the dataset; the clip's RNG is default_rng([seed, index])
    seed: int
    class_index: int  # 0-based; the name's action is class_index + 1
    setup: int = 1
    camera: int = 1  # 1, 2, 3: the scene rotated by 0, +45, -45 degrees
    performer: int = 1
    replication: int = 1
    frames: int | None = None  # overrides the drawn duration (short clips for tests)

    @property
    def name(self) -> str:
        return str(
            SampleName(self.setup, self.camera, self.performer, self.replication, self.class_index + 1)
        )

    @property
    def action(self) -> ActionClass:
        return ACTIONS[self.class_index]


def plan_clips(count: int, seed: int, *, frames: int | None = None) -> list[ClipSpec]:
    """`count` clips with unique NTU names: every class, then every camera, then the next performer.

    Each performer does all classes from all three cameras before the next one starts, so both the
    cross-subject and the cross-view splits have every class on both sides once a few performers
    are in. After P040 the replication goes to R002, then the setup number grows.
    """
    classes, cameras = len(ACTIONS), len(CAMERA_YAW_DEG)
    specs = []
    for index in range(count):
        performance, class_index = divmod(index, classes)
        person_slot, camera_slot = divmod(performance, cameras)
        round_, performer_slot = divmod(person_slot, PERFORMERS_PER_REPLICATION)
        setup_slot, replication_slot = divmod(round_, 2)
        specs.append(
            ClipSpec(
                index=index, seed=seed, class_index=class_index, setup=setup_slot + 1,
                camera=camera_slot + 1, performer=performer_slot + 1,
                replication=replication_slot + 1, frames=frames,
            )
        )  # fmt: skip
    return specs


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


# ---------------------------------------------------------------------------------------- the motions


@dataclass
class Person:
    """One figure in the scene: proportions, where it stands and faces (world frame), its track."""

    body: Proportions
    position: np.ndarray  # 3: on the floor, world frame (camera 1's axes, origin at the scene centre)
    yaw: float  # radians; 0 faces the camera (-z), positive turns towards +x
    track: Track
    sway: tuple[np.ndarray, float, float] = (np.zeros(2), 0.0, 0.0)  # amplitudes (x, z), Hz, phase

    def to_world(self, points: np.ndarray) -> np.ndarray:
        return points @ body_axes(self.yaw).T + self.position

    def to_body(self, points: np.ndarray) -> np.ndarray:
        return (points - self.position) @ body_axes(self.yaw)


def body_axes(yaw: float) -> np.ndarray:
    """3x3 matrix whose columns are the body's left, up and forward in the world frame."""
    facing = np.array([math.sin(yaw), 0.0, -math.cos(yaw)])
    up = np.array([0.0, 1.0, 0.0])
    return np.stack([np.cross(up, facing), up, facing], axis=1)


@dataclass
class Motion:
    """What a motion generator returns besides the tracks it fills."""

    active: np.ndarray  # T x 4 bool: hand slots carrying out the motion
    carrier: np.ndarray  # T int: hand slot holding the class's object (-1: none)


@dataclass(frozen=True)
class Timeline:
    """When the action happens: idle, rise, hold, fall, idle (frames, end exclusive)."""

    envelope: np.ndarray  # T in [0, 1]
    start: int
    end: int

    @property
    def active(self) -> np.ndarray:
        frames = np.arange(len(self.envelope))
        return (frames >= self.start) & (frames < self.end)


def draw_timeline(frames: int, rng: np.random.Generator) -> Timeline:
    start = max(1, round(frames * rng.uniform(0.08, 0.2)))
    end = min(frames - 1, max(start + 4, round(frames * rng.uniform(0.8, 0.92))))  # idle first and last
    rise, fall = rng.uniform(0.25, 0.4), rng.uniform(0.25, 0.4)
    phase = (np.arange(frames) - start + 0.5) / (end - start)
    envelope = np.minimum(_smoothstep(phase / rise), _smoothstep((1.0 - phase) / fall))
    return Timeline(envelope, start, end)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _one_hand(people: list[Person], side: int, timeline: Timeline, goal: np.ndarray) -> Motion:
    """Person 1's `side` hand goes to `goal` (T x 3, body frame) following the timeline."""
    track = people[0].track
    track.goal[:, side] = goal
    track.weight[:, side] = timeline.envelope
    active = np.zeros((track.frames, 4), dtype=bool)
    active[:, side] = timeline.active
    return Motion(active, np.full(track.frames, side))


def hand_to_head(people: list[Person], side: int, rng: np.random.Generator) -> Motion:
    """The hand comes up in front of the face on its own side (mouth / ear / forehead)."""
    body, timeline = people[0].body, draw_timeline(people[0].track.frames, rng)
    sign = 1.0 if side == LEFT else -1.0
    head = np.array([0.0, body.pelvis + body.head, 0.0])
    offset = np.array([sign * rng.uniform(0.03, 0.09), rng.uniform(-0.08, 0.02), rng.uniform(0.09, 0.13)])
    return _one_hand(people, side, timeline, np.broadcast_to(head + offset, (timeline.envelope.size, 3)))


def reach(people: list[Person], side: int, rng: np.random.Generator) -> Motion:
    """The arm stretches forward at about shoulder height, then comes back."""
    body, timeline = people[0].body, draw_timeline(people[0].track.frames, rng)
    sign = 1.0 if side == LEFT else -1.0
    shoulder = np.array([sign * body.shoulder_half, body.pelvis + body.spine_shoulder, 0.0])
    offset = np.array(
        [sign * rng.uniform(0.15, 0.3), rng.uniform(-0.25, 0.0), rng.uniform(0.6, 0.75) * body.arm]
    )
    return _one_hand(people, side, timeline, np.broadcast_to(shoulder + offset, (timeline.envelope.size, 3)))


def wave(people: list[Person], side: int, rng: np.random.Generator) -> Motion:
    """The hand goes up beside the head and swings sideways at 1.5-2.5 Hz."""
    body, timeline = people[0].body, draw_timeline(people[0].track.frames, rng)
    sign = 1.0 if side == LEFT else -1.0
    shoulder = np.array([sign * body.shoulder_half, body.pelvis + body.spine_shoulder, 0.0])
    raised = shoulder + np.array(
        [sign * rng.uniform(0.12, 0.22), rng.uniform(0.22, 0.34), rng.uniform(0.0, 0.12)]
    )
    frequency, amplitude, phase = rng.uniform(1.5, 2.5), rng.uniform(0.08, 0.14), rng.uniform(0, 2 * np.pi)
    swing = amplitude * np.sin(2 * np.pi * frequency * np.arange(timeline.envelope.size) / FPS + phase)
    goal = raised + np.outer(swing * timeline.envelope, [1.0, 0.0, 0.0])
    return _one_hand(people, side, timeline, goal)


def squat(people: list[Person], side: int, rng: np.random.Generator) -> Motion:
    """Knees bend and the pelvis goes down, the trunk leans a little; the hands stay at rest."""
    track, timeline = people[0].track, draw_timeline(people[0].track.frames, rng)
    track.drop[:] = timeline.envelope * rng.uniform(0.16, 0.24) * people[0].body.height
    track.pitch[:] = timeline.envelope * rng.uniform(0.15, 0.35)
    return Motion(np.zeros((track.frames, 4), dtype=bool), np.full(track.frames, -1))


def bow(people: list[Person], side: int, rng: np.random.Generator) -> Motion:
    """The trunk bends forward from the pelvis, then straightens; the arms hang."""
    track, timeline = people[0].track, draw_timeline(people[0].track.frames, rng)
    track.pitch[:] = timeline.envelope * rng.uniform(0.5, 0.9)
    return Motion(np.zeros((track.frames, 4), dtype=bool), np.full(track.frames, -1))


def _meeting_point(people: list[Person], rng: np.random.Generator) -> np.ndarray:
    """World point between the two people where their right hands meet."""
    shoulders = [p.to_world(pose_skeleton(p.body, Track(1))[0, J["ShoulderRight"]]) for p in people]
    middle = (shoulders[0] + shoulders[1]) / 2
    return middle - np.array([0.0, rng.uniform(0.15, 0.25), 0.0])


def _hands_meet(people: list[Person], point: np.ndarray, gap: float, envelopes: Sequence[np.ndarray]) -> None:
    """Right hands to `point`, `gap` metres apart along the line between the two people."""
    across = _unit(people[1].position - people[0].position)
    for person, towards, envelope in zip(people, (-1.0, 1.0), envelopes, strict=True):
        person.track.goal[:, RIGHT] = person.to_body(point + towards * gap / 2 * across)
        person.track.weight[:, RIGHT] = envelope


def handshake(people: list[Person], side: int, rng: np.random.Generator) -> Motion:
    """Both right hands meet in the middle and shake up and down."""
    frames = people[0].track.frames
    timeline = draw_timeline(frames, rng)
    point = _meeting_point(people, rng)
    _hands_meet(people, point, 0.03, (timeline.envelope, timeline.envelope))
    shake = rng.uniform(0.03, 0.05) * np.sin(2 * np.pi * rng.uniform(2.0, 3.0) * np.arange(frames) / FPS)
    for person in people:
        person.track.goal[:, RIGHT, 1] += shake * timeline.envelope
    active = np.zeros((frames, 4), dtype=bool)
    active[:, [1, 3]] = timeline.active[:, None]
    return Motion(active, np.full(frames, -1))


def give(people: list[Person], side: int, rng: np.random.Generator) -> Motion:
    """One person holds the object out, the other reaches for it and takes it at the middle."""
    frames = people[0].track.frames
    giver = int(rng.integers(2))
    timeline = draw_timeline(frames, rng)
    lag = min(int(rng.integers(2, 6)), frames - 1 - timeline.end)  # both back at rest by the last frame
    delayed = np.concatenate([np.zeros(lag), timeline.envelope[: frames - lag]])
    late = Timeline(delayed, timeline.start + lag, timeline.end + lag)
    envelopes = (timeline, late) if giver == 0 else (late, timeline)
    _hands_meet(people, _meeting_point(people, rng), 0.06, [e.envelope for e in envelopes])
    handover = (timeline.start + timeline.end) // 2 + lag // 2
    active = np.zeros((frames, 4), dtype=bool)
    active[:, 1], active[:, 3] = envelopes[0].active, envelopes[1].active
    carrier = np.where(np.arange(frames) < handover, 2 * giver + RIGHT, 2 * (1 - giver) + RIGHT)
    return Motion(active, carrier)


MotionFn = Callable[[list[Person], int, np.random.Generator], Motion]
MOTIONS: dict[str, MotionFn] = {
    "hand_to_head": hand_to_head, "reach": reach, "wave": wave, "squat": squat, "bow": bow,
    "give": give, "handshake": handshake,
}  # fmt: skip


# ------------------------------------------------------------------------------------------- the scene


@dataclass(frozen=True)
class Camera:
    """Where the camera is: the scene rotated by `yaw` about its centre, `distance` away, `height` up."""

    yaw: float
    distance: float
    height: float

    def to_camera(self, world: np.ndarray) -> np.ndarray:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        rotation = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
        return world @ rotation.T + np.array([0.0, -self.height, self.distance])


def project(points: np.ndarray, focal: float, centre: tuple[float, float]) -> np.ndarray:
    """... x 2 pixels of camera-space points (mirrored like NTU: u grows with x, v grows downwards)."""
    z = points[..., 2]
    return np.stack([centre[0] + focal * points[..., 0] / z, centre[1] - focal * points[..., 1] / z], axis=-1)


@dataclass
class SimulatedClip:
    """Everything about one clip except its images."""

    spec: ClipSpec
    metadata: dict[str, Any]
    extras: list[dict[str, Any]]
    clean: np.ndarray  # T x P x 25 x 3 camera space, what the image shows
    joints: np.ndarray  # T x P x 25 x 3 with sensor noise, what the skeleton file says
    tracking: np.ndarray  # T x P x 25 uint8
    lean: np.ndarray  # T x P x 2
    body_ids: tuple[int, ...]
    objects: np.ndarray  # T x 4 index into OBJECTS, -1 for an empty hand
    camera: Camera
    look_seed: int  # the colours, drawn only when images are rendered

    @property
    def frames(self) -> int:
        return self.clean.shape[0]

    @property
    def people(self) -> int:
        return self.clean.shape[1]

    def look(self) -> Look:
        return make_look(self.people, self.camera.height, np.random.default_rng(self.look_seed))


def simulate_clip(spec: ClipSpec) -> SimulatedClip:
    """The clip's people, motion, camera, objects and ground truth (no images yet)."""
    action = spec.action
    motion_rng, scene_rng, look_rng, sensor_rng = np.random.default_rng([spec.seed, spec.index]).spawn(4)
    drawn_frames = round(FPS * motion_rng.uniform(*DURATION_S))
    frames = drawn_frames if spec.frames is None else spec.frames
    if frames < MIN_FRAMES:
        raise ValueError(f"a synthetic clip needs at least {MIN_FRAMES} frames, got {frames}")
    side = int(motion_rng.integers(2))
    side = {"left": LEFT, "right": RIGHT}.get(action.hand, side)
    people = _place_people(spec, action.people, frames, scene_rng)
    _add_idle_sway(people, scene_rng)
    motion = MOTIONS[action.motion](people, side, motion_rng)
    camera = Camera(
        math.radians(CAMERA_YAW_DEG[spec.camera]), scene_rng.uniform(3.0, 3.4), scene_rng.uniform(0.7, 1.0)
    )
    clean = np.stack([camera.to_camera(_world_joints(p)) for p in people], axis=1)
    joints = clean + sensor_rng.normal(0.0, JOINT_NOISE_M, clean.shape)
    tracking = _tracking_states(clean.shape[:3], sensor_rng)
    objects, held = _hand_objects(action, side, motion, len(people), look_rng)
    first_id = BODY_ID_BASE + int(scene_rng.integers(5000))
    body_ids = tuple(first_id + k for k in range(len(people)))  # slot order = id order = frame order
    lean = np.stack([np.stack([np.zeros(frames), np.clip(np.sin(p.track.pitch) * 1.2, -1, 1)], axis=1)
                     for p in people], axis=1)  # fmt: skip
    extras = [{"active_hands": [int(h) for h in np.flatnonzero(row)]} for row in motion.active]
    return SimulatedClip(
        spec, _metadata(spec, side, held), extras, clean, joints, tracking, lean, body_ids, objects, camera,
        look_seed=int(look_rng.integers(2**63)),
    )  # fmt: skip


def _metadata(spec: ClipSpec, side: int, held: str | None) -> dict[str, Any]:
    """The ground truth stored in the recording's header."""
    acting_hand = {"either": SIDE_NAMES[side], "none": None}.get(spec.action.hand, spec.action.hand)
    return {
        "synthetic": {
            "seed": spec.seed, "index": spec.index, "class_index": spec.class_index,
            "class_name": spec.action.name, "acting_hand": acting_hand, "held_object": held,
            "generator_version": GENERATOR_VERSION,
        },
        "class_names": list(SYNTHETIC_CLASSES),
    }  # fmt: skip


def _place_people(spec: ClipSpec, count: int, frames: int, rng: np.random.Generator) -> list[Person]:
    """One person near the centre facing the camera, or two facing each other about a metre apart."""
    performers = (spec.performer, partner_of(spec.performer))[:count]
    bodies = [Proportions.of_height(performer_height(p)) for p in performers]
    if count == 1:
        position = np.array([rng.uniform(-0.4, 0.4), 0.0, rng.uniform(-0.3, 0.3)])
        return [Person(bodies[0], position, math.radians(rng.uniform(-15, 15)), Track(frames))]
    gap, depth = rng.uniform(0.75, 0.88) * (bodies[0].arm + bodies[1].arm), rng.uniform(-0.2, 0.2)
    turn = [math.radians(rng.uniform(55, 80)) for _ in range(2)]
    return [
        Person(bodies[0], np.array([-gap / 2, 0.0, depth]), turn[0], Track(frames)),
        Person(bodies[1], np.array([gap / 2, 0.0, depth + rng.uniform(-0.1, 0.1)]), -turn[1], Track(frames)),
    ]


def _add_idle_sway(people: list[Person], rng: np.random.Generator) -> None:
    """Slow drift (1-2 cm) of each resting hand and of the whole body."""
    for person in people:
        t = np.arange(person.track.frames)[:, None, None] / FPS
        amplitude = rng.uniform(0.005, 0.02, (1, 2, 3))
        frequency, phase = rng.uniform(0.2, 0.6, (1, 2, 3)), rng.uniform(0, 2 * np.pi, (1, 2, 3))
        person.track.idle = amplitude * np.sin(2 * np.pi * frequency * t + phase)
        person.sway = (rng.uniform(0.005, 0.02, 2), rng.uniform(0.2, 0.5), rng.uniform(0, 2 * np.pi))


def _world_joints(person: Person) -> np.ndarray:
    """T x 25 x 3 world joints, the whole body swaying slowly side to side and back and forth."""
    amplitude, frequency, phase = person.sway
    t = np.arange(person.track.frames) / FPS
    wobble = np.sin(2 * np.pi * frequency * t + phase)
    sway = np.stack(
        [amplitude[0] * wobble, np.zeros_like(t), amplitude[1] * np.cos(2 * np.pi * frequency * t)], 1
    )
    return person.to_world(pose_skeleton(person.body, person.track)) + sway[:, None, :]


def _tracking_states(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Mostly tracked (2); hands, hand tips, thumbs and feet are sometimes only inferred (1)."""
    chance = np.full(NUM_JOINTS, 0.03)
    chance[[J[n] for n in ("HandLeft", "HandRight", "FootLeft", "FootRight")]] = 0.1
    chance[[J[n] for n in ("HandTipLeft", "ThumbLeft", "HandTipRight", "ThumbRight")]] = 0.2
    return np.where(rng.random(shape) < chance, INFERRED, TRACKED).astype(np.uint8)


def _hand_objects(
    action: ActionClass, side: int, motion: Motion, people: int, rng: np.random.Generator
) -> tuple[np.ndarray, str | None]:
    """T x 4 object per hand slot (-1 empty): the class's object, distractors in the idle hands."""
    frames = motion.carrier.size
    held = OBJECTS[int(rng.integers(len(OBJECTS)))] if action.held == "any" else action.held
    distractors = rng.random(4) < DISTRACTOR_PROBABILITY
    choices = rng.integers(len(OBJECTS), size=4)
    acting = {"either": [side], "left": [LEFT], "right": [RIGHT], "none": []}[action.hand]
    acting_slots = [2 * person + s for person in range(people) for s in acting]
    objects = np.full((frames, 4), -1)
    for slot in range(2 * people):
        if slot not in acting_slots and distractors[slot]:
            objects[:, slot] = choices[slot]
    if held is not None:
        objects[np.arange(frames), motion.carrier] = OBJECTS.index(held)
    return objects, held


# ------------------------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Look:
    """The clip's colours: a background image and each person's clothes and skin (BGR)."""

    background: np.ndarray
    shirts: tuple[tuple[int, int, int], ...]
    trousers: tuple[tuple[int, int, int], ...]
    skins: tuple[tuple[int, int, int], ...]
    hair: tuple[tuple[int, int, int], ...]


SKIN_TONES = ((160, 190, 235), (130, 165, 215), (100, 135, 190), (70, 100, 150), (50, 70, 110))
# Saturated, distinct object colours (BGR); clothes and background are muted so objects stand out.
CUP_RED, CUP_RIM = (40, 40, 205), (140, 140, 245)
PHONE_BODY, PHONE_SCREEN = (35, 30, 30), (240, 205, 80)
BALL_GREEN, BALL_SHINE = (50, 190, 60), (170, 245, 180)
BOX_BLUE, BOX_TOP, BOX_TAPE = (190, 90, 20), (235, 150, 70), (150, 220, 240)
OBJECT_SIZE_M, OBJECT_SIZE_PX = 0.11, (25, 40)


def _muted(
    rng: np.random.Generator, saturation: tuple[float, float], value: tuple[float, float]
) -> tuple[int, int, int]:
    hsv = np.uint8([[[rng.integers(180), 255 * rng.uniform(*saturation), 255 * rng.uniform(*value)]]])
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def make_look(people: int, camera_height: float, rng: np.random.Generator) -> Look:
    return Look(
        background=make_background(rng, camera_height),
        shirts=tuple(_muted(rng, (0.1, 0.4), (0.25, 0.7)) for _ in range(people)),
        trousers=tuple(_muted(rng, (0.05, 0.4), (0.15, 0.5)) for _ in range(people)),
        skins=tuple(SKIN_TONES[int(rng.integers(len(SKIN_TONES)))] for _ in range(people)),
        hair=tuple(_muted(rng, (0.2, 0.6), (0.05, 0.35)) for _ in range(people)),
    )


def make_background(rng: np.random.Generator, camera_height: float) -> np.ndarray:
    """A wall over a floor, each a vertical gradient, with a few rectangles of furniture."""
    width, height = COLOR_SIZE
    horizon = int(COLOR_C[1] + COLOR_F * camera_height / 5.5)
    wall, floor = (
        np.array(_muted(rng, (0.05, 0.3), (0.55, 0.9))),
        np.array(_muted(rng, (0.1, 0.4), (0.3, 0.6))),
    )
    rows = np.arange(height)[:, None]
    shade = np.where(
        rows < horizon, 0.85 + 0.15 * rows / horizon, 0.8 + 0.3 * (rows - horizon) / (height - horizon)
    )
    column = np.where(rows < horizon, wall, floor) * shade
    image = np.ascontiguousarray(
        np.broadcast_to(np.clip(column, 0, 255).astype(np.uint8)[:, None], (height, width, 3))
    )
    cv2.line(image, (0, horizon), (width, horizon), tuple(int(c) for c in wall * 0.5), 6)
    for _ in range(int(rng.integers(2, 6))):
        w, h = int(rng.integers(120, 500)), int(rng.integers(100, 450))
        x, y = int(rng.integers(-w // 2, width - w // 2)), int(rng.integers(horizon - h - 250, horizon + 60))
        colour = _muted(rng, (0.05, 0.35), (0.2, 0.75))
        cv2.rectangle(image, (x, y), (x + w, y + h), colour, -1)
        cv2.rectangle(image, (x, y), (x + w, y + h), tuple(int(c * 0.6) for c in colour), 4)
    return image


def _px(points: np.ndarray) -> np.ndarray:
    return np.round(project(points, COLOR_F, COLOR_C)).astype(np.int32)


def _size(metres: float, z: float) -> int:
    return max(1, round(COLOR_F * metres / z))


# Limbs drawn as thick segments: (from joint, to joint, width in metres, "shirt" / "trousers" / "skin").
LIMBS: tuple[tuple[str, str, float, str], ...] = (
    ("HipLeft", "KneeLeft", 0.14, "trousers"), ("KneeLeft", "AnkleLeft", 0.11, "trousers"),
    ("HipRight", "KneeRight", 0.14, "trousers"), ("KneeRight", "AnkleRight", 0.11, "trousers"),
    ("AnkleLeft", "FootLeft", 0.08, "shoes"), ("AnkleRight", "FootRight", 0.08, "shoes"),
    ("ShoulderLeft", "ElbowLeft", 0.09, "shirt"), ("ElbowLeft", "WristLeft", 0.075, "shirt"),
    ("ShoulderRight", "ElbowRight", 0.09, "shirt"), ("ElbowRight", "WristRight", 0.075, "shirt"),
    ("Neck", "Head", 0.08, "skin"),
)  # fmt: skip
TORSO = ("ShoulderLeft", "ShoulderRight", "HipRight", "HipLeft")
HAND_RADIUS_M = 0.045
Part = tuple[float, Callable[[np.ndarray], None]]  # (depth in metres, draw on the image)


def render_image(clip: SimulatedClip, look: Look, t: int) -> np.ndarray:
    """The colour frame `t`: background, shadows, then every part far to near (painter's order)."""
    image = look.background.copy()
    parts: list[Part] = []
    for person, joints in enumerate(clip.clean[t]):
        _shadow(image, joints)
        parts += _figure_parts(joints, person, look)
        for side, joint in ((LEFT, J["HandLeft"]), (RIGHT, J["HandRight"])):
            kind = clip.objects[t, 2 * person + side]
            if kind >= 0:
                tip = joints[J["HandTipLeft" if side == LEFT else "HandTipRight"]]
                draw = partial(_draw_object, OBJECTS[kind], joints[joint], tip)
                parts.append((joints[joint, 2] - 0.02, draw))  # in front of its hand
    for _, draw in sorted(parts, key=lambda part: -part[0]):
        draw(image)
    return image


def _shadow(image: np.ndarray, joints: np.ndarray) -> None:
    floor = (joints[J["AnkleLeft"]] + joints[J["AnkleRight"]]) / 2 - np.array([0.0, 0.05, 0.0])
    centre = tuple(int(v) for v in _px(floor))
    axes = (_size(0.35, floor[2]), _size(0.06, floor[2]))
    cv2.ellipse(image, centre, axes, 0, 0, 360, (40, 40, 40), -1, cv2.LINE_AA)


def _figure_parts(joints: np.ndarray, person: int, look: Look) -> list[Part]:
    """Limbs, torso, head and hands of one person; small depth offsets settle ties the natural way."""
    skin, shirt = look.skins[person], look.shirts[person]
    colours = {"shirt": shirt, "trousers": look.trousers[person], "skin": skin, "shoes": (30, 30, 30)}
    px = _px(joints)
    parts: list[Part] = []
    for a, b, width, colour in LIMBS:
        depth = (joints[J[a], 2] + joints[J[b], 2]) / 2
        parts.append((depth, partial(_draw_limb, px[J[a]], px[J[b]], _size(width, depth), colours[colour])))
    torso = [J[name] for name in TORSO]
    depth = float(joints[torso, 2].mean()) + 0.02  # behind the arms that hang beside it
    parts.append((depth, partial(_draw_torso, px[torso], _size(0.12, depth), shirt)))
    head = J["Head"]
    draw_head = partial(_draw_head, px[head], _size(0.1, joints[head, 2]), skin, look.hair[person])
    parts.append((joints[head, 2] - 0.03, draw_head))  # in front of the neck
    for hand in (J["HandLeft"], J["HandRight"]):
        radius = _size(HAND_RADIUS_M, joints[hand, 2])
        parts.append((joints[hand, 2] - 0.01, partial(_draw_disc, px[hand], radius, skin)))
    return parts


def _draw_limb(
    a: np.ndarray, b: np.ndarray, thickness: int, colour: tuple[int, int, int], image: np.ndarray
) -> None:
    cv2.line(image, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), colour, thickness, cv2.LINE_AA)


def _draw_torso(corners: np.ndarray, thickness: int, colour: tuple[int, int, int], image: np.ndarray) -> None:
    cv2.fillConvexPoly(image, corners, colour, cv2.LINE_AA)
    cv2.polylines(image, [corners], True, colour, thickness, cv2.LINE_AA)


def _draw_head(
    centre: np.ndarray, radius: int, skin: tuple[int, int, int], hair: tuple[int, int, int], image: np.ndarray
) -> None:
    x, y = int(centre[0]), int(centre[1])
    cv2.circle(image, (x, y - radius // 5), radius, hair, -1, cv2.LINE_AA)
    cv2.circle(image, (x, y + radius // 8), int(radius * 0.88), skin, -1, cv2.LINE_AA)


def _draw_disc(centre: np.ndarray, radius: int, colour: tuple[int, int, int], image: np.ndarray) -> None:
    cv2.circle(image, (int(centre[0]), int(centre[1])), radius, colour, -1, cv2.LINE_AA)


def _draw_object(kind: str, hand: np.ndarray, tip: np.ndarray, image: np.ndarray) -> None:
    """The object in the hand, centred a little towards the fingers, 25-40 px across."""
    size = int(np.clip(COLOR_F * OBJECT_SIZE_M / hand[2], *OBJECT_SIZE_PX))
    centre = project(hand + 0.3 * (tip - hand), COLOR_F, COLOR_C)
    OBJECT_DRAWERS[kind](image, int(centre[0]), int(centre[1]), size)


def _cup(image: np.ndarray, x: int, y: int, s: int) -> None:
    half_top, half_bottom, half_h = int(s * 0.38), int(s * 0.28), s // 2
    body = np.array([[x - half_top, y - half_h], [x + half_top, y - half_h], [x + half_bottom, y + half_h],
                     [x - half_bottom, y + half_h]], np.int32)  # fmt: skip
    cv2.ellipse(image, (x + half_top, y), (s // 4, s // 5), 0, -90, 90, CUP_RED, max(2, s // 9), cv2.LINE_AA)
    cv2.fillConvexPoly(image, body, CUP_RED, cv2.LINE_AA)
    cv2.ellipse(image, (x, y - half_h), (half_top, max(2, s // 9)), 0, 0, 360, CUP_RIM, -1, cv2.LINE_AA)


def _phone(image: np.ndarray, x: int, y: int, s: int) -> None:
    half_w, half_h, border = int(s * 0.34), s // 2, max(2, s // 10)
    cv2.rectangle(image, (x - half_w, y - half_h), (x + half_w, y + half_h), PHONE_BODY, -1, cv2.LINE_AA)
    screen = ((x - half_w + border, y - half_h + 2 * border), (x + half_w - border, y + half_h - 2 * border))
    cv2.rectangle(image, *screen, PHONE_SCREEN, -1, cv2.LINE_AA)


def _ball(image: np.ndarray, x: int, y: int, s: int) -> None:
    cv2.circle(image, (x, y), s // 2, BALL_GREEN, -1, cv2.LINE_AA)
    cv2.circle(image, (x - s // 7, y - s // 7), max(2, s // 7), BALL_SHINE, -1, cv2.LINE_AA)


def _box(image: np.ndarray, x: int, y: int, s: int) -> None:
    """A cube seen a little from above and from the side: front, top and side faces, a strip of tape."""
    half, depth = int(s * 0.4), s // 4
    left, right, front_top, back_top = x - half, x + half, y - half + depth // 2, y - half - depth // 2
    top = np.array(
        [[left, front_top], [left + depth, back_top], [right + depth, back_top], [right, front_top]]
    )
    side = np.array([[right, front_top], [right + depth, back_top], [right + depth, y + half - depth],
                     [right, y + half]])  # fmt: skip
    cv2.rectangle(image, (left, front_top), (right, y + half), BOX_BLUE, -1)
    cv2.fillConvexPoly(image, top.astype(np.int32), BOX_TOP, cv2.LINE_AA)
    cv2.fillConvexPoly(image, side.astype(np.int32), tuple(int(c * 0.7) for c in BOX_BLUE), cv2.LINE_AA)
    cv2.line(image, (x, front_top), (x, y + half), BOX_TAPE, max(2, s // 10))


OBJECT_DRAWERS: dict[str, Callable[[np.ndarray, int, int, int], None]] = {
    "cup": _cup, "phone": _phone, "ball": _ball, "box": _box,
}  # fmt: skip


# ------------------------------------------------------------------------------------ frames and files


def _body(clip: SimulatedClip, t: int, person: int) -> Body:
    joints = clip.joints[t, person]
    return Body(
        id=clip.body_ids[person],
        joints=joints,
        color_px=project(joints, COLOR_F, COLOR_C),
        depth_px=project(joints, DEPTH_F, DEPTH_C),
        tracking=clip.tracking[t, person],
        lean=tuple(clip.lean[t, person]),
        lean_tracking=TRACKED,
    )


def render_clip(
    spec: ClipSpec, *, images: bool = True
) -> tuple[Iterator[Frame], dict[str, Any], list[dict[str, Any]]]:
    """(frames, header metadata, per-frame extras) of one clip.

    Frames are rendered lazily as the iterator is consumed (a clip of 1080p images is ~400 MB);
    with ``images=False`` they carry bodies only, which is fast.
    """
    clip = simulate_clip(spec)
    return _frames(clip, images), clip.metadata, clip.extras


def _frames(clip: SimulatedClip, images: bool) -> Iterator[Frame]:
    look = clip.look() if images else None
    for t in range(clip.frames):
        image = render_image(clip, look, t) if look is not None else None
        bodies = tuple(_body(clip, t, person) for person in range(clip.people))
        yield Frame(index=t, timestamp=t / FPS, image=image, bodies=bodies)


def created_timestamp(seed: int) -> str:
    """A fixed creation time for a dataset seed, so that the same seed gives byte-identical files."""
    moment = datetime(2017, 1, 1, tzinfo=UTC) + timedelta(seconds=seed % (50 * 365 * 86400))
    return moment.isoformat(timespec="milliseconds")


def write_clip(spec: ClipSpec, out_dir: str | Path, *, jpeg_quality: int = JPEG_QUALITY) -> Path:
    """Render one clip and write it as `<out_dir>/<name>` (.skeleton, _rgb.avi, .jsonl); returns the stem."""
    out_dir = _make_folder(out_dir)
    stem = out_dir / spec.name
    frames, metadata, extras = render_clip(spec)
    settings = {"fps": FPS, "device": "synthetic", "jpeg_quality": jpeg_quality, "overwrite": True}
    no_fsync = {"fsync_every": 2**31, "fsync_seconds": None}  # a lost clip is made again, not recovered
    created = created_timestamp(spec.seed)
    with RecordingWriter(stem, metadata=metadata, created=created, **settings, **no_fsync) as writer:
        for frame, extra in zip(frames, extras, strict=True):
            writer.write(frame, extra)
    return stem


def generate_dataset(
    out_dir: str | Path,
    clips: int | Sequence[ClipSpec],
    seed: int = 0,
    workers: int = 2,
    progress: bool = True,
    *,
    frames: int | None = None,
) -> list[Path]:
    """Write clips under `out_dir` and return their stems in plan order.

    `clips` is a count (planned by ``plan_clips(clips, seed, frames=frames)``) or a list of specs,
    which carry their own seeds. With ``workers > 1`` the clips are made in a spawn-context process
    pool (a script calling this needs the usual ``if __name__ == "__main__":`` guard); each clip
    draws only from its own RNG, so the files do not depend on the workers or their scheduling.
    """
    specs = plan_clips(clips, seed, frames=frames) if isinstance(clips, int) else list(clips)
    job = partial(write_clip, out_dir=_make_folder(out_dir))  # a folder that cannot be made fails first
    stems = []
    with contextlib.ExitStack() as stack:
        bar = stack.enter_context(
            tqdm(total=len(specs), desc="synthetic clips", unit="clip", disable=not progress)
        )
        results: Iterator[Path] = map(job, specs)
        if workers > 1 and len(specs) > 1:
            pool = stack.enter_context(multiprocessing.get_context("spawn").Pool(min(workers, len(specs))))
            results = pool.imap(job, specs)
        for stem in results:
            stems.append(stem)
            bar.update()
    return stems


def _make_folder(folder: str | Path) -> Path:
    """`folder`, created when missing, or a RecordingError naming it (e.g. a path under a regular file)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RecordingError(folder, f"cannot create the folder: {error.strerror or error}") from None
    return folder
