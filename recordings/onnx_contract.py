"""The ONNX contract between `export` (which writes a model folder) and the app (which runs it), in one
place both import (design.md, "ONNX contract"):

- `glimpse.onnx`: `crops` N x 3 x S x S float32 -> `features` N x D (the CNN's features, so a model
  taught later can reuse a base model's glimpse CNN);
- `projection.onnx` (a split head): `features` N x D -> `projected` N x P, each hand crop's RGB-GRU
  input projection (P = 3 x the GRU's units; W_ih x, no bias), run once per new crop and cached with it;
- `head.onnx`: `projected` B x T x 4 x P (split) or `features` B x T x 4 x D (unsplit: a folder of
  two files, as exported before the split, or a "concat" ablation, which has no per-hand projection),
  `hand_mask` B x T x 4, `pose` B x T x 150 -> `logits` B x C, `spatial_attention` B x T x 4,
  `temporal_attention` B x T, `pose_logits`, `rgb_logits`. The head's first input names its kind:
  `head_kind` reads it, and a split head without its projection.onnx is refused;
- every file carries the same `metadata_props`: `ModelInfo`, written by `to_metadata` and read back
  by `from_metadata`, every value a string (numbers as text, lists as JSON).

Why the split: the spatial attention's weighted sum of the four hands' features commutes with the
GRU's input matrix (W_ih sum_k p_k v_k = sum_k p_k W_ih v_k), so a prediction never multiplies a
glimpse by W_ih again; the head is the attention MLPs, the recurrence (W_hh) and the pose stream.

It lives beside the inputs it describes (`recordings.inputs` makes `hand_mask`, `pose` and the crops),
torch-free and ONNX-Runtime-free.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from recordings.errors import UserError
from recordings.inputs import CROP_SIZE

GLIMPSE_FILE = "glimpse.onnx"
PROJECTION_FILE = "projection.onnx"
HEAD_FILE = "head.onnx"
FORMAT_VERSION = "1"
GLIMPSE_INPUT, GLIMPSE_OUTPUT = "crops", "features"
PROJECTION_INPUT, PROJECTION_OUTPUT = "features", "projected"
HEAD_INPUTS: tuple[str, ...] = ("features", "hand_mask", "pose")  # an unsplit head
PROJECTED_HEAD_INPUTS: tuple[str, ...] = ("projected", "hand_mask", "pose")  # a split head
HEAD_OUTPUTS: tuple[str, ...] = (
    "logits",
    "spatial_attention",
    "temporal_attention",
    "pose_logits",
    "rgb_logits",
)
FORMAT_KEY = "sta_hands_format"


class ModelError(UserError):
    """A model file that is missing, unreadable, foreign or from another version."""


def head_kind(inputs: tuple[str, ...], outputs: tuple[str, ...], path: Path) -> str:
    """Whether the head is "split" (reads projected glimpses) or "unsplit" (glimpse features), from its
    input and output names; anything else is a `ModelError`."""
    if outputs == HEAD_OUTPUTS and inputs in (HEAD_INPUTS, PROJECTED_HEAD_INPUTS):
        return "split" if inputs == PROJECTED_HEAD_INPUTS else "unsplit"
    raise ModelError(
        f"{path}: inputs {inputs} and outputs {outputs}, expected {HEAD_INPUTS} or "
        f"{PROJECTED_HEAD_INPUTS} -> {HEAD_OUTPUTS}"
    )


@dataclass(frozen=True)
class ModelInfo:
    """What the exported files say about themselves (their `metadata_props`)."""

    class_names: tuple[str, ...]
    window_length: int
    window_seconds: float
    glimpse_input_size: int
    backbone: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    feature_dim: int
    model_version: str
    trained_on: str
    crop_size: int = CROP_SIZE  # px around each hand in the colour image; the app crops CROP_SIZE

    def to_metadata(self) -> dict[str, str]:
        """The `metadata_props` of both files."""
        return {
            FORMAT_KEY: FORMAT_VERSION,
            "class_names": json.dumps(list(self.class_names)),
            "window_length": str(self.window_length),
            "window_seconds": repr(float(self.window_seconds)),
            "glimpse_input_size": str(self.glimpse_input_size),
            "backbone": self.backbone,
            "normalization_mean": json.dumps([float(m) for m in self.mean]),
            "normalization_std": json.dumps([float(s) for s in self.std]),
            "feature_dim": str(self.feature_dim),
            "model_version": self.model_version,
            "trained_on": self.trained_on,
            "crop_size": str(self.crop_size),
        }

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str], path: Path) -> ModelInfo:
        """Read back what `to_metadata` wrote; a foreign, older or incompatible file is a `ModelError`."""
        version = metadata.get(FORMAT_KEY)
        if version is None:
            raise ModelError(f"{path}: no sta-hands metadata; is this a file from `sta-hands export`?")
        if version != FORMAT_VERSION:
            raise ModelError(f"{path}: metadata format {version}, this app reads format {FORMAT_VERSION}")
        try:
            info = cls(
                class_names=tuple(json.loads(metadata["class_names"])),
                window_length=int(metadata["window_length"]),
                window_seconds=float(metadata["window_seconds"]),
                glimpse_input_size=int(metadata["glimpse_input_size"]),
                backbone=metadata["backbone"],
                mean=tuple(json.loads(metadata["normalization_mean"])),
                std=tuple(json.loads(metadata["normalization_std"])),
                feature_dim=int(metadata["feature_dim"]),
                model_version=metadata["model_version"],
                trained_on=metadata["trained_on"],
                crop_size=int(metadata.get("crop_size", str(CROP_SIZE))),
            )
        except (KeyError, ValueError, TypeError) as error:
            raise ModelError(f"{path}: bad or missing metadata entry {error}") from error
        if info.crop_size != CROP_SIZE:
            raise ModelError(
                f"{path}: made for {info.crop_size} px hand crops; this app crops {CROP_SIZE} px per hand"
            )
        return info
