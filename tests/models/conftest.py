"""Tiny models and synthetic inputs for the network tests (made on the fly, CPU, fast)."""

from __future__ import annotations

from typing import NamedTuple, get_args

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from sta_hands.models.config import ModelConfig, PoseStreamConfig, RgbStreamConfig, SpatialMode, TemporalMode
from sta_hands.models.rgb_stream import AttentionMLP

SPATIAL_MODES: tuple[str, ...] = get_args(SpatialMode)
TEMPORAL_MODES: tuple[str, ...] = get_args(TemporalMode)
FEATURE_DIM = 16
WINDOW = 20
NUM_CLASSES = 5


class Inputs(NamedTuple):
    features: Tensor  # B x T x 4 x D
    hand_mask: Tensor  # B x T x 4
    pose: Tensor  # B x T x 150


def tiny_config(
    spatial: str = "pose", temporal: str = "motion", feature_dim: int = FEATURE_DIM
) -> ModelConfig:
    return ModelConfig(
        num_classes=NUM_CLASSES,
        feature_dim=feature_dim,
        pose=PoseStreamConfig(hidden_size=8),
        rgb=RgbStreamConfig(
            hidden_size=12, spatial_hidden=8, temporal_hidden=6, spatial=spatial, temporal=temporal
        ),
    )


def _body(rng: np.random.Generator, steps: int) -> np.ndarray:
    """T x 25 x 3 joints of one moving person in camera metres."""
    root = np.array([rng.uniform(-1, 1), rng.uniform(-0.3, 0.3), rng.uniform(2.0, 4.0)])
    shape = rng.normal(0.0, 0.3, size=(25, 3))
    t = np.arange(steps)[:, None, None]
    wave = 0.1 * np.sin(0.4 * t + rng.uniform(0, 6, size=(1, 25, 3)))
    drift = np.array([0.02, 0.0, -0.01]) * t
    return root + shape + wave + drift + rng.normal(0.0, 0.005, size=(steps, 25, 3))


def make_inputs(batch: int = 3, seed: int = 0, feature_dim: int = FEATURE_DIM) -> Inputs:
    """Sample 0: two people throughout (one hand untracked in frame 3); sample 1: one person;
    sample 2: the second person leaves after frame 14, the first is missing in frames 0-2, and
    frame 17 has nobody (no hand at all). Further samples repeat the pattern."""
    rng = np.random.default_rng(seed)
    pose = np.zeros((batch, WINDOW, 2, 25, 3), dtype=np.float32)
    mask = np.zeros((batch, WINDOW, 4), dtype=np.float32)
    for b in range(batch):
        present = np.ones((WINDOW, 2), dtype=bool)
        if b % 3 == 1:
            present[:, 1] = False
        if b % 3 == 2:
            present[15:, 1] = False
            present[0:3, 0] = False
            present[17, :] = False
        for body in range(2):
            pose[b, :, body] = _body(rng, WINDOW) * present[:, body, None, None]
            mask[b, :, 2 * body : 2 * body + 2] = present[:, body, None]
        if b % 3 == 0:
            mask[b, 3, 1] = 0.0
    features = rng.normal(size=(batch, WINDOW, 4, feature_dim)).astype(np.float32)
    return Inputs(
        features=torch.from_numpy(features),
        hand_mask=torch.from_numpy(mask),
        pose=torch.from_numpy(pose.reshape(batch, WINDOW, 150)),
    )


def randomise_attention(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give the zero-initialised last layers of every attention MLP random weights (non-uniform attention)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, AttentionMLP):
                last = module[2]
                last.weight.copy_(torch.randn(last.weight.shape, generator=generator))
                if last.bias is not None:
                    last.bias.copy_(torch.randn(last.bias.shape, generator=generator))
    return model


def translate_present_bodies(pose: Tensor, offset: tuple[float, float, float]) -> Tensor:
    """The pose with every joint of every present body moved by `offset`; absent bodies stay zeros."""
    joints = pose.reshape(*pose.shape[:2], 2, 25, 3)
    present = (joints.abs().sum(dim=(-1, -2)) > 0)[..., None, None]
    moved = torch.where(present, joints + torch.tensor(offset), joints)
    return moved.reshape(pose.shape)


@pytest.fixture
def inputs() -> Inputs:
    return make_inputs()
