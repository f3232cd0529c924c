"""The Shift-GCN authors' input pipeline for NTU skeletons, as graph operations (exported inside
`pose_model.onnx`, `contract.pose_model_contract`).

On raw camera-space joints B x 3 x T x 25 x 2 (person 1 first; a missing joint, person or frame is zeros),
as the authors' `data_gen/preprocess.py` does after padding:

1. subtract person 1's SpineMid (joint 1) of the same frame from every joint of every person, and keep
   the joints that were zero at zero;
2. rotate every joint so that person 1's SpineBase -> SpineMid bone in the first frame lies on +z;
3. then so that person 1's ShoulderRight -> ShoulderLeft bone (joint 8 minus joint 4) in the first frame
   lies on +x.

A rotation is the identity where the authors' is: a bone shorter than 1e-6 (sum of |x|, |y|, |z|), a bone
already on the axis or opposite to it (their rotation axis, bone x axis, vanishes), or an angle under
1e-6 rad.

`INPUT_PIPELINE` names this version in the model's metadata.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

INPUT_PIPELINE = "shift-gcn-ntu/1"
CENTRE_JOINT = 1  # SpineMid
Z_BONE = (0, 1)  # SpineBase -> SpineMid onto +z
X_BONE = (4, 8)  # ShoulderLeft, ShoulderRight: (right - left) onto +x
DEGENERATE = 1e-6


def _cross(a: Tensor, b: Tensor) -> Tensor:
    """a x b for B x 3 vectors (written out: exports as plain arithmetic)."""
    return torch.stack(
        (
            a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1],
            a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
            a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0],
        ),
        dim=1,
    )


def rotation_onto(bone: Tensor, axis: int) -> Tensor:
    """B x 3 x 3 rotations taking the B x 3 `bone` onto the +`axis` unit vector (0 x, 1 y, 2 z):
    rotation by the angle between them about bone x axis (Rodrigues), identity where degenerate."""
    target = torch.zeros_like(bone)
    target[:, axis] = 1.0
    turn = _cross(bone, target)
    length = bone.norm(dim=1, keepdim=True)
    cosine = (bone[:, axis : axis + 1] / length.clamp_min(1e-12)).clamp(-1.0, 1.0)
    angle = torch.acos(cosine)
    k = turn / turn.norm(dim=1, keepdim=True).clamp_min(1e-12)
    zero = torch.zeros_like(k[:, 0])
    k_cross = torch.stack(
        (
            torch.stack((zero, -k[:, 2], k[:, 1]), dim=1),
            torch.stack((k[:, 2], zero, -k[:, 0]), dim=1),
            torch.stack((-k[:, 1], k[:, 0], zero), dim=1),
        ),
        dim=1,
    )  # B x 3 x 3
    eye = torch.eye(3, dtype=bone.dtype, device=bone.device).expand_as(k_cross)
    sine, cos = torch.sin(angle)[:, :, None], cosine[:, :, None]
    rotation = cos * eye + sine * k_cross + (1.0 - cos) * k[:, :, None] * k[:, None, :]
    degenerate = (
        (bone.abs().sum(dim=1) < DEGENERATE)
        | (turn.abs().sum(dim=1) < DEGENERATE)
        | (angle[:, 0].abs() < DEGENERATE)
    )
    return torch.where(degenerate[:, None, None], eye, rotation)


def _rotate(rotation: Tensor, joints: Tensor) -> Tensor:
    """B x 3 x 3 applied to every joint of B x 3 x T x V x M."""
    return torch.einsum("bij,bjtvm->bitvm", rotation, joints)


class NtuNormalisation(nn.Module):
    """Raw joints B x 3 x T x 25 x 2 -> the authors' normalised joints, same shape (module docstring)."""

    def forward(self, joints: Tensor) -> Tensor:
        present = (joints.sum(dim=1, keepdim=True) != 0).to(joints.dtype)  # B x 1 x T x V x M
        centre = joints[:, :, :, CENTRE_JOINT : CENTRE_JOINT + 1, 0:1]  # B x 3 x T x 1 x 1
        x = (joints - centre) * present
        first = x[:, :, 0, :, 0]  # B x 3 x V: person 1, first frame
        x = _rotate(rotation_onto(first[:, :, Z_BONE[1]] - first[:, :, Z_BONE[0]], 2), x)
        first = x[:, :, 0, :, 0]
        return _rotate(rotation_onto(first[:, :, X_BONE[1]] - first[:, :, X_BONE[0]], 0), x)
