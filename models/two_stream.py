"""The two-stream model: STA-Hands (RGB) and Deep GRU (pose), their logits summed.

Its inputs and outputs are exactly the ONNX head's (design.md, "ONNX contract"):
features B x T x 4 x D, hand_mask B x T x 4, pose B x T x 150 ->
logits, spatial_attention B x T x 4, temporal_attention B x T, pose_logits, rgb_logits.
Each stream is trained on its own; `from_streams` puts two trained streams together.
"""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor, nn

from sta_hands.contract.onnx_contract import HEAD_INPUTS, HEAD_OUTPUTS
from sta_hands.models.config import ModelConfig
from sta_hands.models.pose_stream import DeepGRU
from sta_hands.models.rgb_stream import STAHands

INPUT_NAMES, OUTPUT_NAMES = HEAD_INPUTS, HEAD_OUTPUTS  # the exported head's (contract.onnx_contract)


class ModelOutput(NamedTuple):
    logits: Tensor  # B x C, pose_logits + rgb_logits
    spatial_attention: Tensor  # B x T x 4
    temporal_attention: Tensor  # B x T
    pose_logits: Tensor  # B x C
    rgb_logits: Tensor  # B x C


class TwoStreamModel(nn.Module):
    """Both streams on one window; late fusion by summing logits (paper: stream fusion)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.pose_stream = DeepGRU(config)
        self.rgb_stream = STAHands(config)

    @classmethod
    def from_streams(cls, config: ModelConfig, pose_stream: DeepGRU, rgb_stream: STAHands) -> TwoStreamModel:
        """A two-stream model holding copies of the weights of two separately trained streams."""
        model = cls(config)
        model.pose_stream.load_state_dict(pose_stream.state_dict())
        model.rgb_stream.load_state_dict(rgb_stream.state_dict())
        return model

    def forward(self, features: Tensor, hand_mask: Tensor, pose: Tensor) -> ModelOutput:
        rgb = self.rgb_stream(features, hand_mask, pose)
        pose_logits = self.pose_stream(pose)  # B x C
        return ModelOutput(
            logits=pose_logits + rgb.logits,
            spatial_attention=rgb.spatial_attention,
            temporal_attention=rgb.temporal_attention,
            pose_logits=pose_logits,
            rgb_logits=rgb.logits,
        )
