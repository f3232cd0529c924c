"""Pose-derived features, computed inside the network from the raw pose so the ONNX head holds them.

From the raw pose (B x T x 150: [body][joint][x, y, z] camera metres, an absent body all zeros):
- the centred pose x_t: every present body translated so that the SpineMid of the first body is the
  origin, per frame. When the first body is missing in a frame but the second is there, the second
  body's SpineMid is the origin instead, so that the features never depend on where the people stand.
  An absent body (all zeros in that frame) stays exactly zero;
- velocity v_t = x_t - x_{t-1} and acceleration a_t = v_t - v_{t-1}: backward differences per time
  step (units: metres per sampled step, not per second). They keep the window's length T by repeating
  the first difference (v_0 := v_1, a_0 := a_1). A difference is zero for a body absent in either
  frame, and for every body when the origin moves to the other body between the two frames, so a
  person entering or leaving the view makes no jump;
- the augmented pose x~_t = [x_t, v_t, a_t] (450 values, input of the spatial attention);
- the augmented motion m_t = [sum |a_t|, sum |v_t|] over all joints and coordinates (2 values; M = the
  T x 2 matrix, input of the temporal attention).

Only plain tensor arithmetic (reshape, slice, concat, abs, sum, compare): exportable at ONNX opset 17.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class PoseFeatures(NamedTuple):
    pose: Tensor  # B x T x 150, centred
    augmented_pose: Tensor  # B x T x 450, [x, v, a]
    motion: Tensor  # B x T x 2, [sum |a|, sum |v|]


def pose_features(
    raw_pose: Tensor, num_bodies: int = 2, num_joints: int = 25, centre_joint: int = 1
) -> PoseFeatures:
    """Centred pose, augmented pose and augmented motion of a batch of raw pose windows."""
    batch, steps, dim = raw_pose.shape
    if not torch.jit.is_tracing():  # an export traces with checked example inputs
        if dim != num_bodies * num_joints * 3:
            raise ValueError(f"pose has {dim} values per step; expected {num_bodies} x {num_joints} x 3")
        if steps < 2:
            raise ValueError(f"a pose window needs at least 2 steps for velocity; got {steps}")
    joints = raw_pose.reshape(batch, steps, num_bodies, num_joints * 3)  # B x T x P x 75
    present = body_presence(joints)  # B x T x P
    source = origin_body(present)  # B x T x P
    centred = centre_pose(joints, present, source, num_joints, centre_joint)  # B x T x P x 75
    # velocity between two frames: the body in both, the origin taken from the same body in both
    same_origin = (source[:, 1:] * source[:, :-1]).sum(dim=-1, keepdim=True)  # B x T-1 x 1
    velocity, moving = backward_difference(centred, present[:, 1:] * present[:, :-1] * same_origin)
    acceleration, _ = backward_difference(velocity, moving[:, 1:] * moving[:, :-1])  # B x T x P x 75
    pose = centred.reshape(batch, steps, dim)
    velocity = velocity.reshape(batch, steps, dim)
    acceleration = acceleration.reshape(batch, steps, dim)
    augmented = torch.cat([pose, velocity, acceleration], dim=-1)  # B x T x 450
    motion = torch.stack([acceleration.abs().sum(dim=-1), velocity.abs().sum(dim=-1)], dim=-1)  # B x T x 2
    return PoseFeatures(pose=pose, augmented_pose=augmented, motion=motion)


def body_presence(joints: Tensor) -> Tensor:
    """1.0 where a body has any non-zero coordinate in that frame, else 0.0: B x T x P x J3 -> B x T x P."""
    return (joints.abs().sum(dim=-1) > 0).to(joints.dtype)


def origin_body(present: Tensor) -> Tensor:
    """One-hot of the body whose centre joint is the origin: the first present one (none: all 0).

    present: B x T x P (0/1) -> B x T x P.
    """
    none_before = torch.ones_like(present[..., 0])  # B x T
    columns = []
    for body in range(present.shape[-1]):
        columns.append(present[..., body] * none_before)
        none_before = none_before * (1.0 - present[..., body])
    return torch.stack(columns, dim=-1)


def centre_pose(
    joints: Tensor, present: Tensor, source: Tensor, num_joints: int, centre_joint: int
) -> Tensor:
    """Translate every present body so that the origin body's centre joint is at 0, per frame;
    absent bodies stay exactly zero. joints: B x T x P x J3, present and source: B x T x P."""
    batch, steps, bodies, _ = joints.shape
    xyz = joints.reshape(batch, steps, bodies, num_joints, 3)
    centres = xyz[:, :, :, centre_joint, :]  # B x T x P x 3
    origin = (source[..., None] * centres).sum(dim=2)  # B x T x 3
    centred = (xyz - origin[:, :, None, None, :]) * present[:, :, :, None, None]  # B x T x P x J x 3
    return centred.reshape(joints.shape)


def backward_difference(values: Tensor, pair_valid: Tensor) -> tuple[Tensor, Tensor]:
    """d_t = (x_t - x_{t-1}) where the pair (t-1, t) is valid for that body, else 0; d_0 := d_1.

    values: B x T x P x F, pair_valid: B x T-1 x P (0/1). Returns d (B x T x P x F) and where it is
    valid (B x T x P, padded alike).
    """
    diff = (values[:, 1:] - values[:, :-1]) * pair_valid[..., None]  # B x T-1 x P x F
    diff = torch.cat([diff[:, :1], diff], dim=1)  # B x T x P x F
    valid = torch.cat([pair_valid[:, :1], pair_valid], dim=1)  # B x T x P
    return diff, valid
