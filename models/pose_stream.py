"""The pose stream, Deep GRU: stacked GRUs on the centred pose, a classifier on every step, averaged.

Input: the raw pose B x T x 150 (camera metres, an absent body all zeros); the centring on SpineMid is
done here (`models.pose_features`), so the exported graph holds it. Output: logits B x C.
"""

from __future__ import annotations

from torch import Tensor, nn

from sta_hands.models.config import ModelConfig
from sta_hands.models.pose_features import pose_features


class DeepGRU(nn.Module):
    """3 stacked GRUs of 150 units, dropout 0.5 between layers and before the per-step classifier."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        pose = config.pose
        self.gru = nn.GRU(
            input_size=config.pose_dim,
            hidden_size=pose.hidden_size,
            num_layers=pose.num_layers,
            batch_first=True,
            dropout=pose.dropout if pose.num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(pose.dropout)
        self.classifier = nn.Linear(pose.hidden_size, config.num_classes)

    def forward(self, pose: Tensor) -> Tensor:
        """Raw pose B x T x 150 -> logits B x C (the per-step logits averaged over steps)."""
        return self.step_logits(pose).mean(dim=1)  # B x C

    def step_logits(self, pose: Tensor) -> Tensor:
        """Raw pose B x T x 150 -> one prediction per step, B x T x C: what training learns from (the
        paper's Deep GRU learns from all its hidden states) and what `forward` averages."""
        config = self.config
        x = pose_features(pose, config.num_bodies, config.num_joints, config.centre_joint).pose  # B x T x 150
        hidden, _ = self.gru(x)  # B x T x H
        return self.classifier(self.dropout(hidden))  # B x T x C
