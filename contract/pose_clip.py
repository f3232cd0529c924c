"""Arranging bodies for a pose model (`contract.pose_model_contract`), torch-free: the joints array
3 x T x 25 x 2 that `pose_model.onnx` reads, as the Shift-GCN authors build it for a whole NTU clip.

- `frame_joints`: every frame's bodies by their place in the frame (the first `max_bodies`), zeros where
  a frame has fewer; camera-space metres. Non-finite joints read as zeros (missing).
- `most_moving`: the two bodies with the most motion (the sum over x, y, z of each coordinate's standard
  deviation over the frames the body is in), most moving first, as the authors keep them.
- `fill_by_repetition`: a person whose first frame is empty keeps only their non-empty frames, moved to
  the start; the empty frames after a person's last one repeat that person's frames from the start.
- `clip_joints`: all three, into `CLIP_FRAMES` frames (more where the clip is longer): the authors'
  whole-clip input for an NTU file.

- `window_joints`: the same layout from frames of person slots (scripts and tests; the live app builds its
  window from `contract.inputs`' pose array in slot order, `app.pose_model`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sta_hands.contract.frame import NUM_JOINTS, Body

CLIP_FRAMES = 300
PEOPLE = 2
MAX_BODIES = 4  # the most bodies the authors read per frame


def frame_joints(frames: Sequence[Sequence[Body]], max_bodies: int = MAX_BODIES) -> np.ndarray:
    """max_bodies x T x 25 x 3 float32: body m of every frame (by its place in the frame), else zeros."""
    joints = np.zeros((max_bodies, len(frames), NUM_JOINTS, 3), np.float32)
    for t, bodies in enumerate(frames):
        for m, body in enumerate(bodies[:max_bodies]):
            joints[m, t] = body.joints
    return np.where(np.isfinite(joints), joints, 0.0).astype(np.float32)


def motion(person: np.ndarray) -> float:
    """T x 25 x 3 -> the sum of the x, y and z standard deviations over the frames the person is in."""
    present = person.reshape(len(person), -1).any(axis=1)
    if not present.any():
        return 0.0
    seen = person[present]
    return float(sum(seen[:, :, axis].std() for axis in range(3)))


def most_moving(joints: np.ndarray, keep: int = PEOPLE) -> np.ndarray:
    """Indices of the `keep` bodies of M x T x 25 x 3 with the most `motion`, most first (ties: first)."""
    energy = np.array([motion(person) for person in joints])
    return np.argsort(-energy, kind="stable")[:keep]


def fill_by_repetition(person: np.ndarray, length: int) -> np.ndarray:
    """T x 25 x 3 -> max(length, T) x 25 x 3: when the first frame is empty, the non-empty frames moved to
    the start; the frames after the last non-empty one filled by repeating the clip from the start (all
    zeros stays zeros)."""
    present = person.reshape(len(person), -1).any(axis=1)
    out = np.zeros((max(length, len(person)), *person.shape[1:]), np.float32)
    if not present.any():
        return out
    last = len(present) - int(np.argmax(present[::-1]))
    clip = person[:last] if present[0] else person[present]
    repeats = -(-len(out) // len(clip))
    out[:] = np.concatenate([clip] * repeats)[: len(out)]
    return out


def arrange(people: np.ndarray, length: int) -> np.ndarray:
    """P x T x 25 x 3 (person 1 first) -> 3 x max(length, T) x 25 x P float32, each person filled by
    repetition: the layout `pose_model.onnx` reads."""
    filled = np.stack([fill_by_repetition(person, length) for person in people])  # P x T' x V x 3
    return np.ascontiguousarray(filled.transpose(3, 1, 2, 0), dtype=np.float32)


def clip_joints(frames: Sequence[Sequence[Body]], length: int = CLIP_FRAMES) -> np.ndarray:
    """The authors' whole-clip input of an NTU skeleton: 3 x max(length, T) x 25 x 2 float32."""
    joints = frame_joints(frames)
    return arrange(joints[most_moving(joints)], length)


def window_joints(slots: Sequence[Sequence[Body | None]], length: int | None = None) -> np.ndarray:
    """The app's window: per frame, the body in each person slot (None: absent) -> 3 x T x 25 x 2 float32
    in slot order; with `length`, filled by repetition to that many frames."""
    joints = np.zeros((PEOPLE, len(slots), NUM_JOINTS, 3), np.float32)
    for t, bodies in enumerate(slots):
        for p, body in enumerate(bodies[:PEOPLE]):
            if body is not None:
                joints[p, t] = body.joints
    joints = np.where(np.isfinite(joints), joints, 0.0).astype(np.float32)
    if length is None:
        return np.ascontiguousarray(joints.transpose(3, 1, 2, 0))
    return arrange(joints, length)
