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


def export_random_model(
    folder: Path,
    *,
    input_size: int = 32,
    classes: int = 5,
    rgb: tuple[int, int, int] = (24, 16, 8),
    pose_hidden: int = 16,
    spread: float | None = 0.2,
    image_glimpse: bool = True,
):
    """Export a model with random weights (seed 0) to `folder`: EfficientNet-Lite0 at `input_size` px
    with its own initialisation, its batch norms set on image-like crops unless `image_glimpse` is False
    (features that depend on the crop: `tests.image_glimpse`), `rgb` = (GRU, spatial, temporal) units;
    `spread`: every head weight drawn from N(0, spread) (attention away from uniform), None: PyTorch's
    initialisation. Its backbone spec."""
    import torch

    from sta_hands.export.onnx import ExportMetadata, export_model
    from sta_hands.models.config import ModelConfig, PoseStreamConfig, RgbStreamConfig
    from sta_hands.models.glimpse import build_backbone
    from sta_hands.models.two_stream import TwoStreamModel
    from tests.image_glimpse import normalise_batch_norms

    torch.manual_seed(0)
    backbone = build_backbone("efficientnet_lite0", input_size=input_size, pretrained=False)
    if image_glimpse:
        normalise_batch_norms(backbone)
    config = ModelConfig(
        num_classes=classes,
        feature_dim=backbone.spec.feature_dim,
        backbone=backbone.spec.name,
        rgb=RgbStreamConfig(hidden_size=rgb[0], spatial_hidden=rgb[1], temporal_hidden=rgb[2]),
        pose=PoseStreamConfig(hidden_size=pose_hidden),
    )
    model = TwoStreamModel(config)
    if spread is not None:
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.normal_(0.0, spread)
    names = tuple(f"class {i}" for i in range(classes))
    export_model(model.eval(), backbone, ExportMetadata(names, 1.0, "random weights (tests)", "test"), folder)
    return backbone.spec


@pytest.fixture(scope="session")
def tiny_model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny exported model (random weights, small glimpse input) for runtime and GUI tests."""
    pytest.importorskip("torch", reason="exporting a test model needs the train extra")
    folder = tmp_path_factory.mktemp("tiny_model")
    export_random_model(folder)
    return folder
