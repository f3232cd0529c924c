"""Shift-GCN (Cheng et al., CVPR 2020, "Skeleton-Based Action Recognition with Shift Graph Convolutional
Network"), joint stream, in plain PyTorch: loads the authors' published checkpoints (`kchengiva/Shift-GCN`)
and exports to ONNX (`export.shift_gcn_export`).

Ten units of a spatial shift graph convolution and a temporal shift convolution (channels 64, 64, 64, 64,
128 stride 2, 128, 128, 256 stride 2, 256, 256), a mean over time, joints and people, a linear classifier.

- Spatial shift: a fixed permutation over (joint, channel): channel c of joint v reads joint (v + c) mod 25
  before the pointwise layer and joint (v - c) mod 25 after it (`spatial_shift_index`).
- Temporal shift: a learnt fractional offset y per channel; output step t reads the input at t * stride + y,
  linearly interpolated between the two neighbouring steps, zero outside the clip; with stride 2 the
  authors add 0.5 to y. That is a depthwise convolution along time with two non-zero taps per channel
  (`TemporalShift`). The authors' shift along joints is about 1e-10 and is left out.

Input: raw joints B x 3 x T x 25 x 2; the authors' normalisation runs first (`models.shift_gcn_input`).
Outputs (`contract.pose_model_contract`): logits B x K, class_activation B x K x T' x 25 x 2 (the
classifier's weights applied to the last unit's features; its mean plus the bias is the logits),
pooled_features B x 256.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from sta_hands.models.shift_gcn_input import NtuNormalisation

JOINTS = 25
PEOPLE = 2
COORDINATES = 3
# (in channels, out channels, temporal stride) of the ten units
UNITS: tuple[tuple[int, int, int], ...] = (
    (3, 64, 1), (64, 64, 1), (64, 64, 1), (64, 64, 1), (64, 128, 2),
    (128, 128, 1), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 256, 1),
)  # fmt: skip
STRIDE_OFFSET = 0.5  # the authors' kernel samples a stride-2 shift half a step later
BN_EPS = 1e-5
Offsets = tuple[np.ndarray, np.ndarray]  # a unit's temporal shifts, before and after its pointwise layer


def spatial_shift_index(channels: int, direction: int, joints: int = JOINTS) -> np.ndarray:
    """Flat (joint, channel) gather index: output (v, c) reads input ((v + direction * c) mod joints, c)."""
    v, c = np.meshgrid(np.arange(joints), np.arange(channels), indexing="ij")
    return (((v + direction * c) % joints) * channels + c).reshape(-1)


def temporal_shift_kernel(offsets: np.ndarray, stride: int) -> tuple[np.ndarray, int]:
    """The depthwise kernel C x K of the fractional shift and its padding P (K = 2P + 1): with padding P
    and stride s, tap k of output t reads input t * s - P + k, so y's floor sits at tap floor(y) + P."""
    shift = offsets.astype(np.float64) + (STRIDE_OFFSET if stride > 1 else 0.0)
    low = np.floor(shift).astype(np.int64)
    fraction = shift - low
    padding = int(max(0, -low.min(), low.max() + 1))
    kernel = np.zeros((len(shift), 2 * padding + 1))
    rows = np.arange(len(shift))
    kernel[rows, low + padding] += 1.0 - fraction
    kernel[rows, low + padding + 1] += fraction
    return kernel, padding


def channel_major(index: np.ndarray, channels: int, joints: int = JOINTS) -> np.ndarray:
    """A (joint, channel) gather index (`spatial_shift_index`) re-expressed over (channel, joint)."""
    source_joint = (index // channels).reshape(joints, channels).T  # [c, v]: the joint output (v, c) reads
    return (np.arange(channels)[:, None] * joints + source_joint).reshape(-1)


class TemporalShift(nn.Module):
    """Per-channel fractional shift along time as a depthwise convolution: B x C x V x T -> B x C x V x T // s
    (T // s steps, as the authors' kernel)."""

    def __init__(self, offsets: np.ndarray, stride: int = 1) -> None:
        super().__init__()
        kernel, padding = temporal_shift_kernel(np.asarray(offsets), stride)
        self.stride, self.padding = stride, padding
        self.register_buffer("kernel", torch.from_numpy(kernel).float()[:, None, None, :], persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        y = F.conv2d(x, self.kernel, None, (1, self.stride), (0, self.padding), 1, x.shape[1])
        return y if self.stride == 1 else y[..., : x.shape[-1] // self.stride]


class ShiftGraphConv(nn.Module):
    """Spatial shift, a per-(joint, channel) mask, a pointwise layer shared by the joints, the reverse
    shift, a batch norm per (joint, channel), the residual and a ReLU: B x Cin x V x T -> B x Cout x V x T.
    The shifts gather whole time rows of the (channel, joint) axis. Inference only (running statistics)."""

    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels_in, channels_out))
        self.bias = nn.Parameter(torch.zeros(channels_out))
        self.feature_mask = nn.Parameter(torch.zeros(JOINTS, channels_in))  # scale tanh(mask) + 1
        self.norm = nn.BatchNorm1d(JOINTS * channels_out, eps=BN_EPS)  # over (joint, channel)
        self.down = (
            nn.Sequential(nn.Conv2d(channels_in, channels_out, 1), nn.BatchNorm2d(channels_out, eps=BN_EPS))
            if channels_in != channels_out
            else nn.Identity()
        )
        gather_in, gather_out = spatial_shift_index(channels_in, +1), spatial_shift_index(channels_out, -1)
        self.register_buffer("gather_in", torch.from_numpy(gather_in), persistent=False)
        self.register_buffer("gather_out", torch.from_numpy(gather_out), persistent=False)
        self.register_buffer(
            "rows_in", torch.from_numpy(channel_major(gather_in, channels_in)), persistent=False
        )
        self.register_buffer(
            "rows_out", torch.from_numpy(channel_major(gather_out, channels_out)), persistent=False
        )

    def forward(self, x0: Tensor) -> Tensor:
        b, c, v, t = x0.shape
        x = x0.reshape(b, c * v, t)[:, self.rows_in].reshape(b, c, v, t)
        x = x * (torch.tanh(self.feature_mask) + 1.0).t()[:, :, None]
        x = torch.matmul(self.weight.t(), x.reshape(b, c, v * t))  # B x Cout x VT
        x = x.reshape(b, -1, t)[:, self.rows_out]  # moves joints within a channel: the bias goes after it
        norm = self.norm  # its statistics are per (joint, channel): as Cout x V here

        def by_channel(values: Tensor) -> Tensor:
            return values.reshape(v, -1).t()

        scale = by_channel(norm.weight / torch.sqrt(norm.running_var + norm.eps))
        shift = scale * (self.bias[:, None] - by_channel(norm.running_mean)) + by_channel(norm.bias)
        x = x * scale.reshape(-1, 1) + shift.reshape(-1, 1)
        return torch.relu(x.reshape(b, -1, v, t) + self.down(x0))


class ShiftTemporalConv(nn.Module):
    """Batch norm, temporal shift, pointwise layer, ReLU, temporal shift (with the stride), batch norm;
    B x C x V x T -> B x C x V x T // s."""

    def __init__(self, channels: int, offsets_in: np.ndarray, offsets_out: np.ndarray, stride: int) -> None:
        super().__init__()
        self.norm_in = nn.BatchNorm2d(channels, eps=BN_EPS)
        self.shift_in = TemporalShift(offsets_in)
        self.pointwise = nn.Conv2d(channels, channels, 1)
        self.shift_out = TemporalShift(offsets_out, stride)
        self.norm_out = nn.BatchNorm2d(channels, eps=BN_EPS)

    def forward(self, x: Tensor) -> Tensor:
        x = torch.relu(self.pointwise(self.shift_in(self.norm_in(x))))
        return self.norm_out(self.shift_out(x))


class StridedProjection(nn.Module):
    """The residual of a unit that changes channels or strides: a 1 x 1 convolution (stride s), batch norm."""

    def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(channels_in, channels_out, 1, (1, stride))
        self.norm = nn.BatchNorm2d(channels_out, eps=BN_EPS)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(self.conv(x))[..., : x.shape[-1] // self.stride]


class ShiftUnit(nn.Module):
    """Graph convolution, temporal convolution, residual, ReLU (the first unit has no residual)."""

    def __init__(
        self, channels_in: int, channels_out: int, stride: int, offsets: Offsets, residual: bool = True
    ) -> None:
        super().__init__()
        self.graph = ShiftGraphConv(channels_in, channels_out)
        self.temporal = ShiftTemporalConv(channels_out, offsets[0], offsets[1], stride)
        self.residual: nn.Module | None = None
        if residual:
            same = channels_in == channels_out and stride == 1
            self.residual = nn.Identity() if same else StridedProjection(channels_in, channels_out, stride)

    def forward(self, x: Tensor) -> Tensor:
        y = self.temporal(self.graph(x))
        return torch.relu(y if self.residual is None else y + self.residual(x))


class ShiftGCN(nn.Module):
    """Raw joints B x 3 x T x 25 x 2 -> (logits B x K, class_activation B x K x T' x 25 x 2,
    pooled_features B x 256). Build it from a checkpoint with `from_checkpoint`."""

    def __init__(self, num_classes: int, offsets: list[Offsets]) -> None:
        super().__init__()
        self.normalise = NtuNormalisation()
        self.input_norm = nn.BatchNorm1d(PEOPLE * JOINTS * COORDINATES, eps=BN_EPS)
        self.units = nn.ModuleList(
            ShiftUnit(cin, cout, stride, shifts, residual=index > 0)
            for index, ((cin, cout, stride), shifts) in enumerate(zip(UNITS, offsets, strict=True))
        )
        self.classifier = nn.Linear(UNITS[-1][1], num_classes)

    @classmethod
    def from_checkpoint(cls, state: Mapping[str, Tensor]) -> ShiftGCN:
        """The network of the authors' joint-stream `state_dict` (`checkpoint_state` maps its names)."""
        offsets = [
            (state[f"l{i}.tcn1.shift_in.ypos"].numpy(), state[f"l{i}.tcn1.shift_out.ypos"].numpy())
            for i in range(1, len(UNITS) + 1)
        ]
        model = cls(int(state["fc.weight"].shape[0]), offsets)
        model.load_state_dict(checkpoint_state(state, model))
        return model.eval()

    def features(self, joints: Tensor) -> Tensor:
        """The last unit's features, B x M x C x V x T' (inference only: batch norms use their running
        statistics). Inside, the layout is (batch x person) x channel x joint x time."""
        b, c, t, v, m = joints.shape
        x = self.normalise(joints).permute(0, 4, 3, 1, 2).reshape(b, m * v * c, t)
        x = self.input_norm(x).reshape(b, m, v, c, t).permute(0, 1, 3, 2, 4).reshape(b * m, c, v, t)
        for unit in self.units:
            x = unit(x)
        return x.reshape(b, m, x.shape[1], v, x.shape[3])

    def forward(self, joints: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        x = self.features(joints)
        pooled = x.mean(dim=(1, 3, 4))  # B x C
        logits = self.classifier(pooled)
        activation = torch.einsum("bmcvt,kc->bktvm", x, self.classifier.weight)
        return logits, activation, pooled


def checkpoint_state(state: Mapping[str, Tensor], model: ShiftGCN) -> dict[str, Tensor]:
    """The authors' `state_dict` in this port's names. Their spatial-shift index tables must equal this
    port's (`spatial_shift_index`), and their shifts along joints must be negligible (< 1e-6)."""
    mapped: dict[str, Tensor] = {}
    renames = {"data_bn.": "input_norm.", "fc.": "classifier."}
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        if not key.startswith("l"):
            prefix = next(p for p in renames if key.startswith(p))
            mapped[renames[prefix] + key[len(prefix) :]] = value
            continue
        layer, rest = key.split(".", 1)
        unit = f"units.{int(layer[1:]) - 1}."
        mapped.update(_unit_entry(unit, rest, value, model))
    return mapped


_UNIT_RENAMES = {
    "gcn1.Linear_weight": "graph.weight", "gcn1.down.": "graph.down.", "gcn1.bn.": "graph.norm.",
    "tcn1.bn.": "temporal.norm_in.", "tcn1.bn2.": "temporal.norm_out.",
    "tcn1.temporal_linear.": "temporal.pointwise.", "residual.conv.": "residual.conv.",
    "residual.bn.": "residual.norm.",
}  # fmt: skip


def _unit_entry(unit: str, rest: str, value: Tensor, model: ShiftGCN) -> dict[str, Tensor]:
    """One checkpoint entry of a unit, renamed (or checked and dropped: index tables, shifts)."""
    if rest == "gcn1.Linear_bias":
        return {unit + "graph.bias": value.reshape(-1)}
    if rest == "gcn1.Feature_Mask":
        return {unit + "graph.feature_mask": value.reshape(JOINTS, -1)}
    if rest in ("gcn1.shift_in", "gcn1.shift_out"):
        ours = model.get_buffer(unit + "graph." + rest.replace("gcn1.shift", "gather"))
        if not torch.equal(value.long(), ours):
            raise ValueError(f"{unit}{rest}: the checkpoint's spatial shift differs from this port's")
        return {}
    if rest.endswith(".xpos"):
        if value.abs().max() > 1e-6:
            raise ValueError(f"{unit}{rest}: a shift along joints of {value.abs().max():.2g} is not ported")
        return {}
    if rest.endswith(".ypos"):
        return {}  # built into the TemporalShift kernels by `from_checkpoint`
    for old, new in _UNIT_RENAMES.items():
        if rest.startswith(old):
            return {unit + new + rest[len(old) :]: value}
    raise ValueError(f"{unit}{rest}: an entry this port does not know")
