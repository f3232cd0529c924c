"""One clip without its images: people placed and moved, the camera, sensor noise, held objects.

`simulate_clip` draws everything from ``np.random.default_rng([seed, clip index])``, split into
independent streams (motion, scene, look, sensor), so two clips of one motion group with the same
index have identical skeletons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sta_hands.contract.frame import INFERRED, NUM_JOINTS, TRACKED
from sta_hands.contract.frame import JOINT as J
from sta_hands.recordings.synthetic.camera import CAMERA_YAW_DEG, Camera
from sta_hands.recordings.synthetic.figure import (
    Proportions,
    Track,
    partner_of,
    performer_height,
    pose_skeleton,
)
from sta_hands.recordings.synthetic.look import Look, make_look
from sta_hands.recordings.synthetic.motions import MOTIONS, Motion, Person, busy_hand
from sta_hands.recordings.synthetic.plan import (
    FPS,
    LEFT,
    OBJECTS,
    RIGHT,
    SIDE_NAMES,
    SYNTHETIC_CLASSES,
    ActionClass,
    ClipSpec,
)

GENERATOR_VERSION = 1
DURATION_S = (1.3, 2.2)  # clip length range: 39-66 frames at 30 fps
MIN_FRAMES = 8  # shortest `frames` override: idle, rise, hold, fall and idle again
BODY_ID_BASE = 72057594037931101  # 2**56 + 3165, as in NTU
JOINT_NOISE_M = 0.01
DISTRACTOR_PROBABILITY = 0.5


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
    idle_hand = None
    if spec.idle_hand == "busy" and action.people == 1 and action.hand != "none":
        idle_hand = busy_hand(people[0], 1 - side, motion_rng)  # drawn after the motion: same skeletons
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
        spec, _metadata(spec, side, held, idle_hand), extras, clean, joints, tracking, lean, body_ids,
        objects, camera, look_seed=int(look_rng.integers(2**63)),
    )  # fmt: skip


def _metadata(spec: ClipSpec, side: int, held: str | None, idle_hand: str | None) -> dict[str, Any]:
    """The ground truth stored in the recording's header (`idle_hand`: what a busy idle hand does)."""
    acting_hand = {"either": SIDE_NAMES[side], "none": None}.get(spec.action.hand, spec.action.hand)
    truth = {
        "seed": spec.seed, "index": spec.index, "class_index": spec.class_index,
        "class_name": spec.action.name, "acting_hand": acting_hand, "held_object": held,
        "generator_version": GENERATOR_VERSION,
    }  # fmt: skip
    if idle_hand is not None:  # only the busy clips say so: a resting clip's files are as before
        truth["idle_hand"] = idle_hand
    return {"synthetic": truth, "class_names": list(SYNTHETIC_CLASSES)}


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
