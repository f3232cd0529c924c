"""The head split at the RGB GRU's input projection, so a prediction never multiplies glimpses by W_ih.

The RGB GRU's input at step t is v~_t = sum_k p_tk V_tk (the spatial attention's weighted sum of the
four hands' glimpse features; "sum": the mask's plain sum), and its gates read W_ih v~_t + b_ih. A
weighted sum commutes with the matrix: W_ih v~_t = sum_k p_tk (W_ih V_tk). So each hand crop's
projection W_ih V_tk (3H values) is computed once, when its glimpse is computed, and cached with it;
a prediction is then the attention MLPs, the GRU's 20 recurrent steps (W_hh only) and the pose
stream. Two graphs come out of one trained `TwoStreamModel`, reusing its submodules and weights:

- `GlimpseProjection`: features N x D -> projected N x 3H (`projection.onnx`);
- `ProjectedHead`: projected B x T x 4 x 3H, hand_mask, pose -> the head's five outputs
  (`head.onnx`), the GRU written out step by step (PyTorch's gate order r, z, n; `_gru_steps`).

"concat" (the four features side by side, table 2's ablation) has no such split: its models keep
the unsplit head (`splittable`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from sta_hands.models.pose_features import pose_features
from sta_hands.models.rgb_stream import STAHands, masked_softmax
from sta_hands.models.two_stream import TwoStreamModel


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
            hidden = _gru_steps(gates_in, w_hh, b_hh)  # B x T x H
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
        hidden_size = w_hh.shape[1]
        state = projected.new_zeros(projected.shape[0], hidden_size)
        hiddens, weights = [], []
        for t in range(projected.shape[1]):
            query = state if rgb.spatial == "hidden" else torch.cat([augmented_pose[:, t], state], dim=-1)
            p_t = masked_softmax(rgb.spatial_attention(query), hand_mask[:, t])  # B x 4
            gates_in = (projected[:, t] * p_t[..., None]).sum(dim=1) + b_ih  # B x 3H
            in_rz, in_n = gates_in.split([2 * hidden_size, hidden_size], dim=-1)
            state = _gru_step(in_rz, in_n, state, w_hh.t(), b_hh)
            hiddens.append(state)
            weights.append(p_t)
        return torch.stack(hiddens, dim=1), torch.stack(weights, dim=1)


def _gru_steps(gates_in: Tensor, w_hh: Tensor, b_hh: Tensor) -> Tensor:
    """The GRU's T steps from every step's input gate pre-activations (B x T x 3H, PyTorch's r, z, n
    order) -> the hidden states B x T x H.

    Written for a short ONNX graph, since ONNX Runtime pays for every node it runs (`python
    scripts/head_profile.py`): the input side is cut into steps before the loop and the states are
    kept B x 1 x H and joined by one Concat, every size is a constant (no shape arithmetic for the free
    batch), and a step is 11 nodes after ONNX Runtime's fusions (22 with int8 GRU matrices before,
    782 -> 364 nodes in the whole 1024-unit head)."""
    hidden_size = w_hh.shape[1]
    in_rz, in_n = gates_in.split([2 * hidden_size, hidden_size], dim=-1)  # B x T x 2H, B x T x H
    w_hh_t = w_hh.t()  # H x 3H, a constant in the export
    state = gates_in.new_zeros(gates_in.shape[0], 1, hidden_size)  # B x 1 x H
    hiddens = []
    for step_rz, step_n in zip(in_rz.split(1, dim=1), in_n.split(1, dim=1), strict=True):
        state = _gru_step(step_rz, step_n, state, w_hh_t, b_hh)
        hiddens.append(state)
    return torch.cat(hiddens, dim=1)


def _gru_step(in_rz: Tensor, in_n: Tensor, state: Tensor, w_hh_t: Tensor, b_hh: Tensor) -> Tensor:
    """One GRU step (PyTorch's equations) from the input side's r, z and n pre-activations and h_{t-1}
    (any leading shape): one product, one Sigmoid over r and z together, and
    h_t = n + z (h_{t-1} - n), which is (1 - z) n + z h_{t-1} with one node less."""
    hidden_size = w_hh_t.shape[0]  # from the weight, a constant: the state's shape would be traced
    h_rz, h_n = (state @ w_hh_t + b_hh).split([2 * hidden_size, hidden_size], dim=-1)
    reset, update = torch.sigmoid(in_rz + h_rz).split([hidden_size, hidden_size], dim=-1)
    candidate = torch.tanh(in_n + reset * h_n)
    return candidate + update * (state - candidate)
