"""Export a trained model to the ONNX files the app runs, with metadata and a parity check.

- `glimpse.onnx`: crops N x 3 x S x S -> features N x D (dynamic N).
- `projection.onnx`: features N x D -> projected N x 3H, the RGB GRU's input projection per crop
  (`export.projected_head`; dynamic N); absent from an unsplit export (`split_head=False`, or a
  "concat" model, which has no per-hand projection).
- `head.onnx`: projected B x T x 4 x 3H (unsplit: features B x T x 4 x D), hand_mask B x T x 4,
  pose B x T x 150 -> logits, spatial_attention, temporal_attention, pose_logits, rgb_logits
  (dynamic B). The pose-derived features (centring, velocity, acceleration, motion) are inside it.

All carry the same `metadata_props` (design.md, "ONNX contract": `contract.onnx_contract`, which the
app reads too): the app needs nothing else. The TorchScript exporter (`dynamo=False`) at opset 17 writes one
self-contained file; torch 2.14's default dynamo exporter writes opset 18 with an external data
file. Every export runs the ONNX files next to PyTorch's unsplit model and fails if they disagree.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch
from torch import Tensor, nn

from sta_hands.contract.errors import UserError
from sta_hands.contract.onnx_contract import (
    GLIMPSE_FILE,
    GLIMPSE_INPUT,
    GLIMPSE_OUTPUT,
    HEAD_FILE,
    PROJECTED_HEAD_INPUTS,
    PROJECTION_FILE,
    PROJECTION_INPUT,
    PROJECTION_OUTPUT,
    ModelInfo,
)
from sta_hands.export.onnx_metadata import write_metadata
from sta_hands.export.projected_head import GlimpseProjection, ProjectedHead, splittable
from sta_hands.models.config import BackboneSpec, ModelConfig
from sta_hands.models.glimpse import GlimpseBackbone
from sta_hands.models.two_stream import INPUT_NAMES, OUTPUT_NAMES, TwoStreamModel

log = logging.getLogger(__name__)

OPSET = 17
LOGITS_TOLERANCE = 1e-4  # absolute, on logits
ATTENTION_TOLERANCE = 1e-5  # absolute, on attention weights


@dataclass(frozen=True)
class ExportMetadata:
    """What the app reads from the files (and nothing else)."""

    class_names: tuple[str, ...]
    window_seconds: float
    trained_on: str
    model_version: str

    def props(self, model: TwoStreamModel, backbone: GlimpseBackbone) -> dict[str, str]:
        return self.props_for(model.config, backbone.spec)

    def props_for(self, config: ModelConfig, spec: BackboneSpec) -> dict[str, str]:
        """The files' `metadata_props` for a model of `config` reading the glimpses of `spec`: the
        contract's `ModelInfo`, plus the model's config for whoever retrains it."""
        info = ModelInfo(
            class_names=tuple(self.class_names),
            window_length=config.window,
            window_seconds=float(self.window_seconds),
            glimpse_input_size=spec.input_size,
            backbone=spec.name,
            mean=spec.mean,
            std=spec.std,
            feature_dim=spec.feature_dim,
            model_version=self.model_version,
            trained_on=self.trained_on,
        )
        return {**info.to_metadata(), "model_config": json.dumps(config.to_dict())}


class ExportError(UserError):
    """The exported files disagree with PyTorch, or cannot be written."""


@dataclass(frozen=True)
class ParityReport:
    glimpse_max_abs: float  # relative to the largest feature when that exceeds 1
    logits_max_abs: float
    attention_max_abs: float

    def ok(self) -> bool:
        return (
            self.logits_max_abs <= LOGITS_TOLERANCE
            and self.attention_max_abs <= ATTENTION_TOLERANCE
            and self.glimpse_max_abs <= LOGITS_TOLERANCE * 10
        )


class _HeadGraph(nn.Module):
    """The two-stream model with a plain tuple output, in the contract's order."""

    def __init__(self, model: TwoStreamModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, features: Tensor, hand_mask: Tensor, pose: Tensor) -> tuple[Tensor, ...]:
        return tuple(self.model(features, hand_mask, pose))


def example_head_inputs(model: TwoStreamModel, batch: int = 2, seed: int = 0) -> dict[str, Tensor]:
    """Random inputs of the head's shapes: two bodies moving, some hands absent."""
    config = model.config
    generator = torch.Generator().manual_seed(seed)
    t, d = config.window, config.feature_dim
    pose = torch.randn(batch, t, config.pose_dim, generator=generator) * 0.3
    pose[..., 2::3] += 3.0  # z: about 3 m from the camera
    mask = (torch.rand(batch, t, config.num_hands, generator=generator) > 0.2).float()
    mask[0, :, 2:] = 0.0  # no second person in the first window
    pose[0, :, config.pose_dim // 2 :] = 0.0
    features = torch.rand(batch, t, config.num_hands, d, generator=generator) * mask[..., None]
    return {"features": features, "hand_mask": mask, "pose": pose}


def _export(module: nn.Module, args: tuple[Tensor, ...], path: Path, inputs, outputs, dynamic) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shape asserts that only run eagerly
        torch.onnx.export(
            module,
            args,
            str(path),
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
        )


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def check_parity(
    folder: Path,
    model: TwoStreamModel,
    backbone: GlimpseBackbone,
    head_inputs: Mapping[str, Tensor] | None = None,
    crops: Tensor | None = None,
) -> ParityReport:
    """Largest absolute differences between the ONNX files and PyTorch on the same inputs."""
    model.eval()
    head_inputs = dict(head_inputs or example_head_inputs(model))
    if crops is None:
        size = backbone.spec.input_size
        crops = torch.randn(3, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = [o.numpy() for o in model(*(head_inputs[n] for n in INPUT_NAMES))]
        expected_features = backbone(crops).numpy()
    feeds = {n: v.numpy() for n, v in head_inputs.items()}
    if (folder / PROJECTION_FILE).is_file():  # a split head reads each hand's projected glimpse
        features = feeds.pop("features")
        flat = features.reshape(-1, features.shape[-1])
        projected = _session(folder / PROJECTION_FILE).run(None, {PROJECTION_INPUT: flat})[0]
        feeds["projected"] = projected.reshape((*features.shape[:-1], projected.shape[-1]))
    got = _session(folder / HEAD_FILE).run(list(OUTPUT_NAMES), feeds)
    got_features = _session(folder / GLIMPSE_FILE).run(None, {GLIMPSE_INPUT: crops.numpy()})[0]
    diff = {name: float(np.abs(e - g).max()) for name, e, g in zip(OUTPUT_NAMES, expected, got, strict=True)}
    scale = max(1.0, float(np.abs(expected_features).max()))  # random-weight CNNs give huge features
    return ParityReport(
        glimpse_max_abs=float(np.abs(expected_features - got_features).max()) / scale,
        logits_max_abs=max(diff["logits"], diff["pose_logits"], diff["rgb_logits"]),
        attention_max_abs=max(diff["spatial_attention"], diff["temporal_attention"]),
    )


def export_unsplit_head(model: TwoStreamModel, path: Path) -> None:
    """The unsplit head graph alone at `path` (no metadata): what `sta-hands bench` sets the split
    head against."""
    head_args = tuple(example_head_inputs(model)[n] for n in INPUT_NAMES)
    dynamic = {name: {0: "B"} for name in (*INPUT_NAMES, *OUTPUT_NAMES)}
    _export(_HeadGraph(model.eval()), head_args, path, INPUT_NAMES, OUTPUT_NAMES, dynamic)


def _export_split_head(model: TwoStreamModel, head_args: tuple[Tensor, ...], folder: Path) -> None:
    """projection.onnx (features -> projected, per crop) and head.onnx on projected glimpses."""
    projection = GlimpseProjection(model)
    features = head_args[0]
    _export(
        projection, (features[0, 0],), folder / PROJECTION_FILE, [PROJECTION_INPUT], [PROJECTION_OUTPUT],
        {PROJECTION_INPUT: {0: "N"}, PROJECTION_OUTPUT: {0: "N"}},
    )  # fmt: skip
    with torch.no_grad():
        projected = projection(features)
    dynamic = {name: {0: "B"} for name in (*PROJECTED_HEAD_INPUTS, *OUTPUT_NAMES)}
    args = (projected, *head_args[1:])
    _export(ProjectedHead(model), args, folder / HEAD_FILE, PROJECTED_HEAD_INPUTS, OUTPUT_NAMES, dynamic)


def export_model(
    model: TwoStreamModel,
    backbone: GlimpseBackbone,
    metadata: ExportMetadata,
    out: str | Path,
    real_inputs: Mapping[str, Any] | None = None,
    split_head: bool = True,
) -> ParityReport:
    """Write glimpse.onnx, projection.onnx and head.onnx into `out`, check them against PyTorch's
    unsplit model, return the parity. `split_head=False` (and a "concat" model) writes the unsplit
    two-file folder instead.

    `real_inputs` (optional): {"head": {features, hand_mask, pose}, "crops": N x 3 x S x S} from real
    clips, checked in addition to random inputs.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    model.eval()
    if model.config.feature_dim != backbone.spec.feature_dim:
        raise ExportError(
            f"the head reads {model.config.feature_dim} features, the backbone {backbone.spec.name} gives "
            f"{backbone.spec.feature_dim}"
        )
    size = backbone.spec.input_size
    _export(
        backbone, (torch.zeros(2, 3, size, size),), folder / GLIMPSE_FILE, [GLIMPSE_INPUT], [GLIMPSE_OUTPUT],
        {GLIMPSE_INPUT: {0: "N"}, GLIMPSE_OUTPUT: {0: "N"}},
    )  # fmt: skip
    (folder / PROJECTION_FILE).unlink(missing_ok=True)  # an earlier export into the same folder
    head_args = tuple(example_head_inputs(model)[n] for n in INPUT_NAMES)
    if split_head and splittable(model):
        _export_split_head(model, head_args, folder)
        names: tuple[str, ...] = (GLIMPSE_FILE, PROJECTION_FILE, HEAD_FILE)
    else:
        dynamic = {name: {0: "B"} for name in (*INPUT_NAMES, *OUTPUT_NAMES)}
        _export(_HeadGraph(model), head_args, folder / HEAD_FILE, INPUT_NAMES, OUTPUT_NAMES, dynamic)
        names = (GLIMPSE_FILE, HEAD_FILE)
    props = metadata.props(model, backbone)
    for name in names:
        write_metadata(folder / name, props, check=True)
    reports = [check_parity(folder, model, backbone)]
    if real_inputs is not None:
        head = {k: torch.as_tensor(np.asarray(v, dtype=np.float32)) for k, v in real_inputs["head"].items()}
        crops = torch.as_tensor(np.asarray(real_inputs["crops"], dtype=np.float32))
        reports.append(check_parity(folder, model, backbone, head, crops))
    worst = ParityReport(*(max(getattr(r, f) for r in reports) for f in ParityReport.__dataclass_fields__))
    if not worst.ok():
        raise ExportError(f"{folder}: the ONNX files disagree with PyTorch: {worst}")
    log.info("exported %s: %s", folder, worst)
    return worst
