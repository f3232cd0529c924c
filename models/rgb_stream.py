"""The RGB stream, STA-Hands: glimpse features of the four hands, pooled by a spatial attention over hands
and a temporal attention over steps, both conditioned on the pose only.

Per step t, with V_t the four hands' glimpse features and x~_t the augmented pose (`models.pose_features`):
    p_t  = softmax over present hands of f_p(x~_t)            spatial attention, MLP 450 -> 256 -> 4
    v~_t = sum_k p_tk V_tk                                    attended glimpse
    h_t  = f_h(v~_t, h_{t-1})                                 GRU, 1024 units
and over the window, with M the augmented motion (T x 2):
    p'   = softmax over steps of f'_p(M flattened)            temporal attention, MLP 40 -> 32 -> 20
    h~   = sum_t p'_t h_t,  logits = W dropout(h~)

The ablations of the paper's table 2 are `RgbStreamConfig.spatial` and `.temporal`; the module
chooses its layers once, in `__init__`:
- spatial "sum": the sum of the present hands' features; "concat": the four features concatenated
  (absent hands zeroed, GRU input 4 x D). Neither has attention; both report the uniform distribution
  over present hands as their spatial attention.
- spatial "hidden": f_p reads the GRU's previous hidden state h_{t-1} (h_{-1} = 0); "both": f_p reads
  [x~_t, h_{t-1}]. These need the GRU one step at a time (a GRUCell loop, unrolled in ONNX).
- temporal "last": h~ = h_T (reported as a one-hot attention on the last step); "mean": a prediction
  on every step, averaged (reported uniform), the paper's setting for rows without temporal attention
  ("the same settings as the pose stream"); training learns from every step's prediction
  (`step_logits`), and since the classifier is linear the average is the classifier of the mean h_t;
  "hidden_motion" (not in the paper): a per-step score s_t = MLP([h_t, m_t]) (1024 + 2 -> 32 -> 1),
  softmax over steps. A per-step score keeps the MLP small (an MLP over all of H flattened
  would need T x 1024 inputs) and lets each step's own memory and motion decide its weight.

The last layer of every attention MLP starts at zero, so attention starts uniform (over present hands).
Absent hands (hand_mask 0) get exactly zero spatial attention; a step without any hand gets all zeros.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from sta_hands.models.config import ModelConfig
from sta_hands.models.pose_features import pose_features

_MASKED = -1e9  # the score of an absent hand before the softmax


class RgbStreamOutput(NamedTuple):
    logits: Tensor  # B x C
    spatial_attention: Tensor  # B x T x 4
    temporal_attention: Tensor  # B x T


def masked_softmax(scores: Tensor, mask: Tensor, dim: int = -1) -> Tensor:
    """Softmax over `dim` among the entries where mask > 0; masked entries are exactly 0 and an
    all-masked slice gives all zeros (not NaN)."""
    scores = scores.masked_fill(mask <= 0, _MASKED)
    weights = torch.softmax(scores, dim=dim) * mask
    return weights / weights.sum(dim=dim, keepdim=True).clamp_min(1e-12)


class AttentionMLP(nn.Sequential):
    """Linear -> ReLU -> Linear; the last layer is zero-initialised so the scores start all equal.
    `last_bias=False` where a bias could not change the softmax (one shared score per step)."""

    def __init__(self, in_features: int, hidden: int, out_features: int, last_bias: bool = True) -> None:
        super().__init__(
            nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, out_features, bias=last_bias)
        )
        nn.init.zeros_(self[2].weight)
        if self[2].bias is not None:
            nn.init.zeros_(self[2].bias)


class STAHands(nn.Module):
    """forward(features B x T x 4 x D, hand_mask B x T x 4, raw pose B x T x 150) -> RgbStreamOutput."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        rgb = config.rgb
        hands, hidden = config.num_hands, rgb.hidden_size
        self.spatial = rgb.spatial
        self.temporal = rgb.temporal

        # Spatial integration: which MLP (if any) scores the hands, and the GRU's input size.
        self.recurrent_attention = rgb.spatial in ("hidden", "both")
        pose_dim = config.augmented_pose_dim
        attention_inputs = {"pose": pose_dim, "hidden": hidden, "both": pose_dim + hidden}
        self.spatial_attention = (
            AttentionMLP(attention_inputs[rgb.spatial], rgb.spatial_hidden, hands)
            if rgb.spatial in attention_inputs
            else None
        )
        glimpse_dim = hands * config.feature_dim if rgb.spatial == "concat" else config.feature_dim
        if self.recurrent_attention:
            self.gru_cell = nn.GRUCell(glimpse_dim, hidden)
        else:
            self.gru = nn.GRU(glimpse_dim, hidden, batch_first=True)

        # Temporal pooling: which MLP (if any) scores the steps.
        if rgb.temporal == "motion":
            self.temporal_attention = AttentionMLP(
                config.window * config.motion_dim, rgb.temporal_hidden, config.window
            )
        elif rgb.temporal == "hidden_motion":
            # a bias shared by every step cannot move a softmax over steps: none
            self.temporal_attention = AttentionMLP(
                hidden + config.motion_dim, rgb.temporal_hidden, 1, last_bias=False
            )
        else:
            self.temporal_attention = None

        self.dropout = nn.Dropout(rgb.dropout)
        self.classifier = nn.Linear(hidden, config.num_classes)

    def forward(self, features: Tensor, hand_mask: Tensor, pose: Tensor) -> RgbStreamOutput:
        hidden, spatial, motion = self._hidden_states(features, hand_mask, pose)
        temporal = self._temporal_weights(hidden, motion)  # B x T
        pooled = (temporal[..., None] * hidden).sum(dim=1)  # B x H
        logits = self.classifier(self.dropout(pooled))  # B x C
        return RgbStreamOutput(logits=logits, spatial_attention=spatial, temporal_attention=temporal)

    @property
    def classifies_every_step(self) -> bool:
        """Temporal "mean": a prediction per step, averaged (the paper's setting without temporal
        attention); the classifier being linear, classifying the mean of the h_t is the same average."""
        return self.temporal == "mean"

    def step_logits(self, features: Tensor, hand_mask: Tensor, pose: Tensor) -> Tensor:
        """B x T x C, one prediction per step, for training when `classifies_every_step` (each step's
        prediction learns, as the pose stream's do); `forward`'s logits are their mean."""
        if not self.classifies_every_step:
            raise ValueError(f"temporal {self.temporal!r} pools the steps before classifying: no step logits")
        return self.training_outputs(features, hand_mask, pose)[0]

    def training_outputs(self, features: Tensor, hand_mask: Tensor, pose: Tensor) -> tuple[Tensor, Tensor]:
        """(what training learns from, the spatial attention B x T x 4) of one pass: the step logits
        B x T x C where `classifies_every_step`, else `forward`'s logits B x C."""
        if not self.classifies_every_step:
            output = self(features, hand_mask, pose)
            return output.logits, output.spatial_attention
        hidden, spatial, _ = self._hidden_states(features, hand_mask, pose)
        return self.classifier(self.dropout(hidden)), spatial  # B x T x C

    def _hidden_states(self, features: Tensor, hand_mask: Tensor, pose: Tensor) -> tuple[Tensor, ...]:
        """(h_t B x T x H, spatial attention B x T x 4, augmented motion B x T x 2)."""
        config = self.config
        self._check_inputs(features, hand_mask, pose)
        derived = pose_features(pose, config.num_bodies, config.num_joints, config.centre_joint)
        if self.recurrent_attention:
            hidden, spatial = self._recurrent_attention(features, hand_mask, derived.augmented_pose)
        else:
            spatial = self._spatial_weights(hand_mask, derived.augmented_pose)  # B x T x 4
            glimpses = self._integrate(features, hand_mask, spatial)  # B x T x D (concat: B x T x 4D)
            hidden, _ = self.gru(glimpses)  # B x T x H
        return hidden, spatial, derived.motion

    def _spatial_weights(self, hand_mask: Tensor, augmented_pose: Tensor) -> Tensor:
        """p_t from the augmented pose ("pose"), or uniform over present hands ("sum", "concat")."""
        if self.spatial_attention is None:
            return masked_softmax(torch.zeros_like(hand_mask), hand_mask)  # B x T x 4
        return masked_softmax(self.spatial_attention(augmented_pose), hand_mask)  # B x T x 4

    def _integrate(self, features: Tensor, hand_mask: Tensor, spatial: Tensor) -> Tensor:
        """v~_t: attention-weighted sum, plain sum or concatenation of the hands' features."""
        if self.spatial == "concat":
            batch, steps, hands, dim = features.shape
            return (features * hand_mask[..., None]).reshape(batch, steps, hands * dim)  # B x T x 4D
        if self.spatial == "sum":
            return (features * hand_mask[..., None]).sum(dim=2)  # B x T x D
        return (features * spatial[..., None]).sum(dim=2)  # B x T x D

    def _recurrent_attention(
        self, features: Tensor, hand_mask: Tensor, augmented_pose: Tensor
    ) -> tuple[Tensor, Tensor]:
        """The GRU step by step, the attention reading h_{t-1} ("hidden") or [x~_t, h_{t-1}] ("both")."""
        assert self.spatial_attention is not None
        steps = features.shape[1]
        state = features.new_zeros(features.shape[0], self.gru_cell.hidden_size)  # B x H
        hiddens, weights = [], []
        for t in range(steps):
            query = state if self.spatial == "hidden" else torch.cat([augmented_pose[:, t], state], dim=-1)
            p_t = masked_softmax(self.spatial_attention(query), hand_mask[:, t])  # B x 4
            glimpse = (features[:, t] * p_t[..., None]).sum(dim=1)  # B x D
            state = self.gru_cell(glimpse, state)  # B x H
            hiddens.append(state)
            weights.append(p_t)
        return torch.stack(hiddens, dim=1), torch.stack(weights, dim=1)  # B x T x H, B x T x 4

    def _temporal_weights(self, hidden: Tensor, motion: Tensor) -> Tensor:
        """p' over steps: from M ("motion"), from [h_t, m_t] ("hidden_motion"), one-hot last, or uniform."""
        batch, steps, _ = hidden.shape
        if self.temporal == "motion":
            assert self.temporal_attention is not None
            return torch.softmax(
                self.temporal_attention(motion.reshape(batch, steps * self.config.motion_dim)), dim=-1
            )  # B x T
        if self.temporal == "hidden_motion":
            assert self.temporal_attention is not None
            scores = self.temporal_attention(torch.cat([hidden, motion], dim=-1)).squeeze(-1)  # B x T
            return torch.softmax(scores, dim=-1)
        zeros = torch.zeros_like(hidden[..., 0])  # B x T
        if self.temporal == "last":
            return torch.cat([zeros[:, :-1], torch.ones_like(zeros[:, -1:])], dim=1)
        return zeros + 1.0 / steps  # "mean"

    def _check_inputs(self, features: Tensor, hand_mask: Tensor, pose: Tensor) -> None:
        if torch.jit.is_tracing():  # shapes are fixed by the example inputs of an export
            return
        config = self.config
        batch = pose.shape[0]
        expected = {
            "features": (features, (batch, config.window, config.num_hands, config.feature_dim)),
            "hand_mask": (hand_mask, (batch, config.window, config.num_hands)),
            "pose": (pose, (batch, config.window, config.pose_dim)),
        }
        for name, (tensor, shape) in expected.items():
            if tuple(tensor.shape) != shape:
                got = " x ".join(str(int(s)) for s in tensor.shape)
                want = " x ".join(str(s) for s in shape)
                raise ValueError(f"STAHands input {name} is {got}; expected {want} (B x T x ...)")
