"""Shared fixtures: where the real NTU samples live (../shared, absent in a user's clone)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
NTU_SAMPLES = Path(os.environ.get("STA_HANDS_NTU_SAMPLES", REPO.parent / "shared" / "samples" / "ntu"))


@pytest.fixture(scope="session")
def ntu_samples() -> Path:
    """The folder of real NTU RGB+D files; the test skips where it is absent (their licence bars copies)."""
    if not NTU_SAMPLES.is_dir():
        pytest.skip(f"real NTU samples not found at {NTU_SAMPLES} (set STA_HANDS_NTU_SAMPLES)")
    return NTU_SAMPLES


@pytest.fixture(scope="session")
def tiny_model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny exported model (random weights, small glimpse input) for runtime and GUI tests."""
    torch = pytest.importorskip("torch", reason="exporting a test model needs the train extra")
    from export.onnx import ExportMetadata, export_model
    from models.config import ModelConfig, PoseStreamConfig, RgbStreamConfig
    from models.glimpse import build_backbone
    from models.two_stream import TwoStreamModel

    torch.manual_seed(0)
    backbone = build_backbone("efficientnet_lite0", input_size=32, pretrained=False)
    config = ModelConfig(
        num_classes=5,
        feature_dim=backbone.spec.feature_dim,
        backbone=backbone.spec.name,
        rgb=RgbStreamConfig(hidden_size=24, spatial_hidden=16, temporal_hidden=8),
        pose=PoseStreamConfig(hidden_size=16),
    )
    model = TwoStreamModel(config)
    with torch.no_grad():  # attention away from uniform, so tests can see it move
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.2)
    folder = tmp_path_factory.mktemp("tiny_model")
    metadata = ExportMetadata(tuple(f"class {i}" for i in range(5)), 1.0, "random weights (tests)", "test")
    export_model(model, backbone, metadata, folder)
    return folder
