"""The named motions: each fills the people's tracks for one class and says which hands act.

A motion generator takes the placed people, the acting side and the clip's motion RNG, and returns
a `Motion` (active hand slots, the hand slot carrying the class's object) per frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sta_hands.contract.frame import JOINT as J
from sta_hands.recordings.synthetic.figure import Proportions, Track, _unit, pose_skeleton
from sta_hands.recordings.synthetic.plan import FPS, LEFT, RIGHT


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


def busy_hand(person: Person, side: int, rng: np.random.Generator) -> str:
    """The idle `side` hand keeps busy while the other acts (the harder case): it scratches a spot on
    the trunk (small, fast strokes) or gestures in front of the chest (wider, slower loops), moving about
    as fast as an acting hand, so its motion alone does not say which hand acts. Returns which it does.
    """
    body, timeline = person.body, draw_timeline(person.track.frames, rng)
    sign = 1.0 if side == LEFT else -1.0
    t = np.arange(timeline.envelope.size) / FPS
    kind = ("scratch", "gesture")[int(rng.integers(2))]
    if kind == "scratch":  # a spot on the belly or the hip on its own side, 5-9 cm strokes at 2.5-4 Hz
        spot = np.array([sign * rng.uniform(0.05, 0.2), body.pelvis + rng.uniform(0.05, 0.3), 0.12])
        amplitude, frequency, axis = rng.uniform(0.05, 0.09), rng.uniform(2.5, 4.0), np.array([0.4, 1.0, 0.0])
    else:  # a loop in front of the chest, 10-18 cm across at 1.2-2 Hz
        height = body.pelvis + body.spine_shoulder * rng.uniform(0.6, 0.85)
        spot = np.array([sign * rng.uniform(0.0, 0.15), height, rng.uniform(0.25, 0.4)])
        amplitude, frequency, axis = rng.uniform(0.1, 0.18), rng.uniform(1.2, 2.0), np.array([1.0, 0.5, 0.3])
    phase = 2 * np.pi * frequency * t + rng.uniform(0, 2 * np.pi)
    stroke = np.outer(np.sin(phase), _unit(axis)) + np.outer(np.cos(phase), [0.0, 0.0, 0.3])
    person.track.goal[:, side] = spot + amplitude * stroke * timeline.envelope[:, None]
    person.track.weight[:, side] = timeline.envelope
    return kind


MotionFn = Callable[[list[Person], int, np.random.Generator], Motion]
MOTIONS: dict[str, MotionFn] = {
    "hand_to_head": hand_to_head, "reach": reach, "wave": wave, "squat": squat, "bow": bow,
    "give": give, "handshake": handshake,
}  # fmt: skip
