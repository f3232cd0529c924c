"""The head split at the RGB GRU's input projection, so a prediction never multiplies glimpses by W_ih.

The RGB GRU's input at step t is v~_t = sum_k p_tk V_tk (the spatial attention's weighted sum of the
four hands' glimpse features; "sum": the mask's plain sum), and its gates read W_ih v~_t + b_ih. A
weighted sum commutes with the matrix: W_ih v~_t = sum_k p_tk (W_ih V_tk). So each hand crop's
projection W_ih V_tk (3H values) is computed once, when its glimpse is computed, and cached with it;
a prediction is then the attention MLPs, the GRU's 20 recurrent steps (W_hh only) and the pose
stream. Two graphs come out of one trained `TwoStreamModel`, reusing its submodules and weights:

- `GlimpseProjection`: features N x D -> projected N x 3H (`projection.onnx`);
- `ProjectedHead`: projected B x T x 4 x 3H, hand_mask, pose -> the head's five outputs
  (`head.onnx`), the GRU written out step by step (PyTorch's gate order r, z, n).

"concat" (the four features side by side, table 2's ablation) has no such split: its models keep
the unsplit head (`splittable`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from models.pose_features import pose_features
from models.rgb_stream import STAHands, masked_softmax
from models.two_stream import TwoStreamModel


def splittable(model: TwoStreamModel) -> bool:
    """True when the RGB GRU reads one weighted sum of the hands' features (every mode but "concat")."""
    return model.rgb_stream.spatial != "concat"


def _gru_weights(rgb: STAHands) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(W_ih 3H x D, b_ih, W_hh 3H x H, b_hh) of the RGB GRU, whichever module holds it."""
    if rgb.recurrent_attention:
        cell = rgb.gru_cell
        return cell.weight_ih, cell.bias_ih, cell.weight_hh, cell.bias_hh
    gru = rgb.gru
    return gru.weight_ih_l0, gru.bias_ih_l0, gru.weight_hh_l0, gru.bias_hh_l0


class GlimpseProjection(nn.Module):
    """features N x D -> W_ih features, N x 3H (no bias: the head adds b_ih once per step)."""

    def __init__(self, model: TwoStreamModel) -> None:
        super().__init__()
        if not splittable(model):
            raise ValueError("a 'concat' RGB stream has no per-hand input projection")
        self.weight = _gru_weights(model.rgb_stream)[0]

    def forward(self, features: Tensor) -> Tensor:
        return features @ self.weight.t()


class ProjectedHead(nn.Module):
    """The two-stream model on projected glimpses: outputs in the contract's order (a plain tuple)."""

    def __init__(self, model: TwoStreamModel) -> None:
        super().__init__()
        if not splittable(model):
            raise ValueError("a 'concat' RGB stream has no per-hand input projection")
        self.model = model

    def forward(self, projected: Tensor, hand_mask: Tensor, pose: Tensor) -> tuple[Tensor, ...]:
        rgb = self.model.rgb_stream
        config = rgb.config
        derived = pose_features(pose, config.num_bodies, config.num_joints, config.centre_joint)
        _, b_ih, w_hh, b_hh = _gru_weights(rgb)
        if rgb.recurrent_attention:
            hidden, spatial = self._recurrent(projected, hand_mask, derived.augmented_pose, b_ih, w_hh, b_hh)
        else:
            spatial = rgb._spatial_weights(hand_mask, derived.augmented_pose)  # B x T x 4
            weights = hand_mask if rgb.spatial == "sum" else spatial
            gates_in = (projected * weights[..., None]).sum(dim=2) + b_ih  # B x T x 3H
            state = projected.new_zeros(projected.shape[0], w_hh.shape[1])
            hiddens = []
            for t in range(projected.shape[1]):
                state = _gru_step(gates_in[:, t], state, w_hh, b_hh)
                hiddens.append(state)
            hidden = torch.stack(hiddens, dim=1)  # B x T x H
        temporal = rgb._temporal_weights(hidden, derived.motion)  # B x T
        pooled = (temporal[..., None] * hidden).sum(dim=1)  # B x H
        rgb_logits = rgb.classifier(pooled)  # eval: dropout is the identity
        pose_logits = self.model.pose_stream(pose)
        return pose_logits + rgb_logits, spatial, temporal, pose_logits, rgb_logits

    def _recurrent(
        self, projected: Tensor, hand_mask: Tensor, augmented_pose: Tensor, b_ih: Tensor, w_hh: Tensor, b_hh
    ) -> tuple[Tensor, Tensor]:
        """ "hidden" / "both": the attention reads h_{t-1}, so each step weighs its hands in turn."""
        rgb = self.model.rgb_stream
        assert rgb.spatial_attention is not None
        state = projected.new_zeros(projected.shape[0], w_hh.shape[1])
        hiddens, weights = [], []
        for t in range(projected.shape[1]):
            query = state if rgb.spatial == "hidden" else torch.cat([augmented_pose[:, t], state], dim=-1)
            p_t = masked_softmax(rgb.spatial_attention(query), hand_mask[:, t])  # B x 4
            gates_in = (projected[:, t] * p_t[..., None]).sum(dim=1) + b_ih  # B x 3H
            state = _gru_step(gates_in, state, w_hh, b_hh)
            hiddens.append(state)
            weights.append(p_t)
        return torch.stack(hiddens, dim=1), torch.stack(weights, dim=1)


def _gru_step(gates_in: Tensor, state: Tensor, w_hh: Tensor, b_hh: Tensor) -> Tensor:
    """One GRU step from the input's gate pre-activations (PyTorch's r, z, n order) and h_{t-1}."""
    gates_h = state @ w_hh.t() + b_hh  # B x 3H
    in_r, in_z, in_n = gates_in.chunk(3, dim=-1)
    h_r, h_z, h_n = gates_h.chunk(3, dim=-1)
    reset = torch.sigmoid(in_r + h_r)
    update = torch.sigmoid(in_z + h_z)
    candidate = torch.tanh(in_n + reset * h_n)
    return (1.0 - update) * candidate + update * state
