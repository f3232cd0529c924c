"""The Shift-GCN port against direct numpy transcriptions of the authors' formulas: the CUDA shift kernel
(model/Temporal_shift/cuda/shift_cuda_kernel.cu), the spatial shift tables of model/shift_gcn.py and the
preprocessing of data_gen/preprocess.py and rotation.py; then the whole port on real NTU skeletons."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from sta_hands.contract.pose_clip import clip_joints
from sta_hands.models.shift_gcn import UNITS, ShiftGCN, TemporalShift, spatial_shift_index
from sta_hands.models.shift_gcn_input import NtuNormalisation
from sta_hands.recordings.ntu.names import parse_sample_name
from sta_hands.recordings.ntu.skeleton import read_skeleton
from tests.conftest import NTU_SAMPLES, REPO

WEIGHTS = Path(
    os.environ.get("STA_HANDS_SHIFT_GCN_WEIGHTS", REPO.parent / "shared" / "weights" / "shift-gcn")
)
NTU60_XSUB = WEIGHTS / "ntu_ShiftGCN_joint_xsub.pt"


def _state(path: Path) -> dict[str, torch.Tensor]:
    if not path.exists():
        pytest.skip(f"Shift-GCN checkpoint not found at {path} (set STA_HANDS_SHIFT_GCN_WEIGHTS)")
    return torch.load(path, map_location="cpu", weights_only=True)


def _real_skeletons(names: tuple[str, ...]) -> list[Path]:
    paths = [p for name in names for p in NTU_SAMPLES.parent.glob(f"ntu*/{name}.skeleton")]
    if len(paths) < len(names):
        pytest.skip(f"real NTU skeletons {names} not found under {NTU_SAMPLES.parent}")
    return paths


# ---------------------------------------------------------------- the authors' formulas, transcribed


def kernel_shift(x: np.ndarray, xpos: np.ndarray, ypos: np.ndarray, stride: int) -> np.ndarray:
    """shift_cuda_forward_kernel, one output element at a time (float32), with ShiftFunction's +0.5."""
    n, c, height, width = x.shape
    ypos = ypos + np.float32(0.5) if stride != 1 else ypos
    top = height // stride
    out = np.zeros((n, c, top, width), np.float32)

    def q(ch: int, h: int, w: int) -> np.ndarray:
        inside = 0 <= h < height and 0 <= w < width
        return x[:, ch, h, w] if inside else np.zeros(n, np.float32)

    for ch in range(c):
        px, py = np.float32(xpos[ch]), np.float32(ypos[ch])
        x1, y1 = math.floor(px), math.floor(py)
        dx, dy = np.float32(px - x1), np.float32(py - y1)
        for h in range(top):
            for w in range(width):
                h0 = h * stride
                out[:, ch, h, w] = (
                    q(ch, h0 + y1, w + x1) * (1 - dx) * (1 - dy)
                    + q(ch, h0 + y1, w + x1 + 1) * dx * (1 - dy)
                    + q(ch, h0 + y1 + 1, w + x1) * (1 - dx) * dy
                    + q(ch, h0 + y1 + 1, w + x1 + 1) * dx * dy
                )
    return out


def authors_rotation_matrix(axis: np.ndarray, theta: float) -> np.ndarray:
    if np.abs(axis).sum() < 1e-6 or np.abs(theta) < 1e-6:
        return np.eye(3)
    axis = axis / math.sqrt(np.dot(axis, axis))
    a = math.cos(theta / 2.0)
    b, c, d = -axis * math.sin(theta / 2.0)
    aa, bb, cc, dd = a * a, b * b, c * c, d * d
    bc, ad, ac, ab, bd, cd = b * c, a * d, a * c, a * b, b * d, c * d
    return np.array([[aa + bb - cc - dd, 2 * (bc + ad), 2 * (bd - ac)],
                     [2 * (bc - ad), aa + cc - bb - dd, 2 * (cd + ab)],
                     [2 * (bd + ac), 2 * (cd - ab), aa + dd - bb - cc]])  # fmt: skip


def authors_angle(v1: np.ndarray, v2: np.ndarray) -> float:
    if np.abs(v1).sum() < 1e-6 or np.abs(v2).sum() < 1e-6:
        return 0.0
    u1, u2 = v1 / np.linalg.norm(v1), v2 / np.linalg.norm(v2)
    return float(np.arccos(np.clip(np.dot(u1, u2), -1.0, 1.0)))


def authors_normalisation(data: np.ndarray) -> np.ndarray:
    """pre_normalization's centring and two rotations on one padded sample C x T x V x M (float32)."""
    s = data.transpose(3, 1, 2, 0).copy()  # M x T x V x C
    centre = s[0][:, 1:2, :].copy()
    for p in range(len(s)):
        if s[p].sum() == 0:
            continue
        mask = (s[p].sum(-1) != 0)[..., None]
        s[p] = (s[p] - centre) * mask
    for (low, high), target in (((0, 1), [0, 0, 1]), ((4, 8), [1, 0, 0])):
        bone = s[0, 0, high] - s[0, 0, low]
        matrix = authors_rotation_matrix(np.cross(bone, target), authors_angle(bone, np.array(target)))
        for p in range(len(s)):
            for t in range(s.shape[1]):
                if s[p, t].sum() != 0:
                    s[p, t] = s[p, t] @ matrix.T
    return s.transpose(3, 1, 2, 0)


# ---------------------------------------------------------------- shift layers


def _port_shift(shift: TemporalShift, x: np.ndarray) -> np.ndarray:
    """The port's shift (on N x C x V x T) applied to the kernel's N x C x T x V layout."""
    return shift(torch.from_numpy(x).transpose(2, 3)).transpose(2, 3).numpy()


@pytest.mark.parametrize(("stride", "frames"), [(1, 20), (2, 20), (2, 21), (1, 7)])
def test_temporal_shift_matches_the_cuda_kernel(stride: int, frames: int) -> None:
    rng = np.random.default_rng(stride * 100 + frames)
    channels = 24
    ypos = rng.uniform(-9.0, 9.0, channels).astype(np.float32)
    ypos[:3] = (-1.0, 0.0, 2.0)  # whole steps: one tap
    xpos = rng.uniform(-1e-8, 1e-8, channels).astype(np.float32)  # what training leaves along joints
    x = rng.normal(size=(2, channels, frames, 25)).astype(np.float32)
    want = kernel_shift(x, xpos, ypos, stride)
    got = _port_shift(TemporalShift(ypos, stride), x)
    assert got.shape == want.shape == (2, channels, frames // stride, 25)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_temporal_shifts_of_the_checkpoint_match_the_cuda_kernel() -> None:
    state = _state(NTU60_XSUB)
    rng = np.random.default_rng(0)
    for unit, (_, channels, stride) in ((4, UNITS[3]), (5, UNITS[4])):
        for name, step in (("shift_in", 1), ("shift_out", stride)):
            xpos = state[f"l{unit}.tcn1.{name}.xpos"].numpy()
            ypos = state[f"l{unit}.tcn1.{name}.ypos"].numpy()
            x = rng.normal(size=(1, channels, 16, 25)).astype(np.float32)
            got = _port_shift(TemporalShift(ypos, step), x)
            np.testing.assert_allclose(got, kernel_shift(x, xpos, ypos, step), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("channels", [3, 64, 256])
def test_spatial_shift_is_the_authors_index_table(channels: int) -> None:
    """model/shift_gcn.py's loops: in (i*C + j + j*C) % (25*C), out (i*C + j - j*C) % (25*C)."""
    want_in = [
        (i * channels + j + j * channels) % (channels * 25) for i in range(25) for j in range(channels)
    ]
    want_out = [
        (i * channels + j - j * channels) % (channels * 25) for i in range(25) for j in range(channels)
    ]
    assert spatial_shift_index(channels, +1).tolist() == want_in
    assert spatial_shift_index(channels, -1).tolist() == want_out


# ---------------------------------------------------------------- the input pipeline


def _normalised(joints: np.ndarray) -> np.ndarray:
    return NtuNormalisation()(torch.from_numpy(joints[None])).numpy()[0]


def test_normalisation_matches_the_authors_on_real_skeletons() -> None:
    paths = _real_skeletons(("S001C001P001R001A001", "S017C003P020R002A058", "S018C001P045R001A119"))
    for path in paths:
        joints = clip_joints(read_skeleton(path).frames, length=64)
        np.testing.assert_allclose(_normalised(joints), authors_normalisation(joints), atol=2e-5)


def _person(rng: np.random.Generator, frames: int) -> np.ndarray:
    person = rng.normal(0.0, 0.2, (3, frames, 25)).astype(np.float32)
    person[2] += 3.0
    return person


@pytest.mark.parametrize("case", ["second person absent", "missing joints", "bone on z", "bone against z",
                                  "first frame empty", "nobody"])  # fmt: skip
def test_normalisation_matches_the_authors_in_edge_cases(case: str) -> None:
    rng = np.random.default_rng(3)
    joints = np.stack([_person(rng, 12), _person(rng, 12)], axis=-1)  # 3 x T x V x 2
    if case == "second person absent":
        joints[..., 1] = 0.0
    elif case == "missing joints":
        joints[:, 2:5, 7:12, 0] = 0.0
        joints[:, :, 3, 1] = 0.0
    elif case in ("bone on z", "bone against z"):
        joints[:, 0, 0, 0] = joints[:, 0, 1, 0] - np.float32([0.0, 0.0, 0.3 if case == "bone on z" else -0.3])
    elif case == "first frame empty":
        joints[:, 0, :, 0] = 0.0
    else:
        joints[:] = 0.0
    got = _normalised(joints)
    np.testing.assert_allclose(got, authors_normalisation(joints), atol=2e-5)
    assert np.isfinite(got).all()


# ---------------------------------------------------------------- the whole network


def test_class_activation_averages_to_the_logits() -> None:
    torch.manual_seed(0)
    offsets = [(np.random.default_rng(i).uniform(-3, 3, cout), np.zeros(cout)) for i, (_, cout, _) in
               enumerate(UNITS)]  # fmt: skip
    model = ShiftGCN(7, offsets).eval()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 2.0)
    joints = torch.from_numpy(np.stack([np.stack([_person(np.random.default_rng(1), 24)] * 2, -1)]))
    with torch.no_grad():
        logits, activation, pooled = model(joints)
    assert activation.shape == (1, 7, 6, 25, 2) and pooled.shape == (1, 256)
    torch.testing.assert_close(activation.mean(dim=(2, 3, 4)) + model.classifier.bias, logits)
    torch.testing.assert_close(model.classifier(pooled), logits)


def test_the_port_names_real_ntu60_skeletons() -> None:
    model = ShiftGCN.from_checkpoint(_state(NTU60_XSUB))
    paths = _real_skeletons(("S001C001P001R001A001", "S017C003P020R002A058", "S004C002P003R001A017"))
    joints = np.stack([clip_joints(read_skeleton(path).frames) for path in paths])
    with torch.no_grad():
        logits = model(torch.from_numpy(joints))[0]
    assert logits.argmax(dim=1).tolist() == [parse_sample_name(path).action_index for path in paths]
