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

It lives beside the inputs it describes (`contract.inputs` makes `hand_mask`, `pose` and the crops),
torch-free and ONNX-Runtime-free.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sta_hands.contract.errors import UserError
from sta_hands.contract.inputs import CROP_SIZE

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
        info.check_values(path)
        if info.crop_size != CROP_SIZE:
            raise ModelError(
                f"{path}: made for {info.crop_size} px hand crops; this app crops {CROP_SIZE} px per hand"
            )
        return info

    def check_values(self, path: Path) -> None:
        """Refuse values the app would divide by, index with or allocate from (an edited file): a
        `ModelError` naming the file and the field, instead of a bare error far from the cause."""
        side = MAX_GLIMPSE_PX
        checks = (
            *window_checks(self.class_names, self.window_length, self.window_seconds),
            ("glimpse_input_size", 1 <= self.glimpse_input_size <= side, f"1 to {side} px"),
            ("feature_dim", self.feature_dim >= 1, "at least 1"),
            ("normalization_mean", _numbers(self.mean, math.isfinite), "3 finite numbers"),
            ("normalization_std", _numbers(self.std, positive), "3 finite numbers above 0"),
        )
        refuse_bad_entries(self, path, checks)

    def axis_values(self) -> dict[str, int]:
        """The metadata entries that fixed axes of the graph must equal (`check_graph`)."""
        return {
            "class_names": len(self.class_names),
            "window_length": self.window_length,
            "feature_dim": self.feature_dim,
            "glimpse_input_size": self.glimpse_input_size,
        }


def window_checks(
    class_names: Sequence[object], window_length: int, window_seconds: float
) -> tuple[tuple[str, bool, str], ...]:
    """The checks every model kind's class names and window take (`refuse_bad_entries`)."""
    frames, names = MAX_WINDOW_LENGTH, class_names
    return (
        ("class_names", len(names) > 0 and all(isinstance(n, str) for n in names), "a list of names"),
        ("window_length", 1 <= window_length <= frames, f"1 to {frames} frames"),
        ("window_seconds", positive(window_seconds), "a finite number of seconds above 0"),
    )


def refuse_bad_entries(info: object, path: Path, checks: Sequence[tuple[str, bool, str]]) -> None:
    """The first (metadata entry, whether it is good, what was expected) that is not good, as a
    `ModelError` naming the file, the entry and its value."""
    for field, good, expected in checks:
        if not good:
            value = json.dumps(getattr(info, FIELDS.get(field, field)), default=str)[:80]
            raise ModelError(f"{path}: metadata entry {field!r} is {value}, expected {expected}")


MAX_WINDOW_LENGTH = 10_000  # frames per window: the paper's is 20; more is an edited file, not a model
MAX_GLIMPSE_PX = 1024  # the glimpse CNN's input side: 224-299 px for the paper's backbones
FIELDS = {"normalization_mean": "mean", "normalization_std": "std"}  # metadata key -> ModelInfo field


def positive(value: object) -> bool:
    """A finite number above 0."""
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def _numbers(values: Sequence[object], good) -> bool:
    return len(values) == 3 and all(isinstance(v, int | float) and good(v) for v in values)


# metadata entry, the graph's tensors and the axis that must equal it (fixed axes only: a named one is
# dynamic); `check_graph` compares them
GRAPH_AXES: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (
    ("class_names", (("logits", -1), ("pose_logits", -1), ("rgb_logits", -1))),
    ("window_length", (("hand_mask", 1), ("pose", 1), ("spatial_attention", 1), ("temporal_attention", 1))),
    ("feature_dim", (("features", -1),)),  # the glimpse's output, an unsplit head's input
    ("glimpse_input_size", (("crops", 2), ("crops", 3))),
)


def check_graph(values: Mapping[str, int], path: Path, shapes: Mapping[str, Sequence[object]]) -> None:
    """The metadata (its `axis_values()`) against the shapes of one file's inputs and outputs ({name:
    shape}): a `ModelError` naming the file and the metadata entry where a fixed axis disagrees
    (`class_names` shorter than the logits would index past its end; a `window_length` other than the
    graph's would feed it windows it cannot take). Entries and tensors a model does not have are skipped."""
    for field, axes in GRAPH_AXES:
        if field not in values:
            continue
        for name, axis in axes:
            shape = shapes.get(name)
            if shape is None or not -len(shape) <= axis < len(shape) or not isinstance(shape[axis], int):
                continue
            if shape[axis] != values[field]:
                raise ModelError(
                    f"{path}: metadata entry {field!r} says {values[field]}, the graph's {name} has "
                    f"{shape[axis]} (axis {axis % len(shape)} of {tuple(shape)}); the metadata was edited "
                    "or comes from another export"
                )
