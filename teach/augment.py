"""Augmenting a few examples as the paper's method allows (issue 13), on batches of model inputs.

The pose is raw camera space (B x T x 150: [body][joint][x, y, z] metres, an absent body all zeros);
the model centres it on SpineMid itself, so a rotation or scaling about the camera's origin is one
about the person:
- `rotate_scale_jitter`: a rotation about the vertical (camera y) axis by up to `rotation_deg`, a
  scale by up to `scale` either way, both per window, and Gaussian jitter of `jitter_m` on every
  joint of a present body; an absent body stays exactly zero (a rotation and a scale keep zeros zero);
- `mirror`: the scene seen in a mirror, for actions the user marked not hand-specific: x negated,
  each body's left and right joints swapped, and the hands' slots swapped (left-1 <-> right-1,
  left-2 <-> right-2), the glimpse features taken from the flipped crops
  (`teach.features`): a mirrored right hand is a left hand.

Random time-grid windows (`models.windows.time_window`) are drawn by the training loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sta_hands.contract.frame import JOINT_NAMES, NUM_JOINTS
from sta_hands.contract.inputs import NUM_BODIES

# each joint's mirror image: "...Left" <-> "...Right", the spine and head themselves
MIRROR_JOINTS = np.array(
    [
        JOINT_NAMES.index(n.replace("Left", "\0").replace("Right", "Left").replace("\0", "Right"))
        for n in JOINT_NAMES
    ]
)
MIRROR_HANDS = np.array([1, 0, 3, 2])  # slot order left-1, right-1, left-2, right-2


@dataclass(frozen=True)
class PoseAugmentation:
    """How much the pose of a training window is moved (0 turns a part off)."""

    rotation_deg: float = 20.0  # about the vertical axis, uniform in +-rotation_deg
    scale: float = 0.1  # uniform in 1 +- scale
    jitter_m: float = 0.01  # per joint and coordinate, Gaussian


def rotate_scale_jitter(pose: np.ndarray, rng: np.random.Generator, settings: PoseAugmentation) -> np.ndarray:
    """B x T x 150 raw pose, rotated, scaled and jittered per window (see the module docstring)."""
    batch, steps, _ = pose.shape
    xyz = pose.reshape(batch, steps, NUM_BODIES, NUM_JOINTS, 3).astype(np.float64)
    present = np.abs(xyz).sum(axis=(3, 4), keepdims=True) > 0  # B x T x P x 1 x 1
    angle = np.radians(rng.uniform(-settings.rotation_deg, settings.rotation_deg, batch))
    cos, sin = np.cos(angle)[:, None, None, None], np.sin(angle)[:, None, None, None]
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    turned = np.stack([cos * x + sin * z, y, -sin * x + cos * z], axis=-1)  # B x T x P x J x 3
    turned *= rng.uniform(1 - settings.scale, 1 + settings.scale, batch)[:, None, None, None, None]
    turned += rng.normal(0.0, settings.jitter_m, turned.shape) * present
    return turned.reshape(pose.shape).astype(np.float32)


def mirror_pose(pose: np.ndarray) -> np.ndarray:
    """... x 150 raw pose seen in a mirror: x negated, left and right joints swapped (zeros stay zero)."""
    xyz = pose.reshape(*pose.shape[:-1], NUM_BODIES, NUM_JOINTS, 3)[..., MIRROR_JOINTS, :].copy()
    xyz[..., 0] *= -1.0
    return xyz.reshape(pose.shape)


def mirror(
    pose: np.ndarray, hand_mask: np.ndarray, flipped_features: np.ndarray, active: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """One window (T x ...) in the mirror: pose, hand mask, features (of the flipped crops) and the
    acting hands, the hands' slots swapped."""
    swapped_active = None if active is None else active[:, MIRROR_HANDS]
    return mirror_pose(pose), hand_mask[:, MIRROR_HANDS], flipped_features[:, MIRROR_HANDS], swapped_active
