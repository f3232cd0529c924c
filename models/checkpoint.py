"""Checkpoints: one `.safetensors` file, weights plus the config and free metadata as JSON in its header.

No pickle anywhere: the weights are safetensors, the config and metadata JSON strings under the
header keys "sta_hands.kind" (which module: TwoStreamModel, DeepGRU or STAHands), "sta_hands.config"
(`ModelConfig.to_dict`) and "sta_hands.metadata" (anything JSON-able: class names, epoch, accuracy...).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from sta_hands.models.config import ModelConfig
from sta_hands.models.pose_stream import DeepGRU
from sta_hands.models.rgb_stream import STAHands
from sta_hands.models.two_stream import TwoStreamModel

MODEL_KINDS: dict[str, type[nn.Module]] = {
    "TwoStreamModel": TwoStreamModel,
    "DeepGRU": DeepGRU,
    "STAHands": STAHands,
}
_KIND, _CONFIG, _METADATA = "sta_hands.kind", "sta_hands.config", "sta_hands.metadata"


class CheckpointError(ValueError):
    """A file that is not a readable sta-hands checkpoint."""


def save(
    model: nn.Module, config: ModelConfig, path: str | Path, metadata: Mapping[str, Any] | None = None
) -> Path:
    """Write the model's weights, its config and `metadata` (JSON-able) to `path` (written atomically)."""
    kind = type(model).__name__
    if kind not in MODEL_KINDS:
        raise TypeError(f"cannot checkpoint a {kind}; known models: {', '.join(MODEL_KINDS)}")
    if getattr(model, "config", config) != config:
        raise ValueError(f"the config given differs from the {kind}'s own config")
    path = Path(path)
    header = {
        _KIND: kind,
        _CONFIG: json.dumps(config.to_dict()),
        _METADATA: json.dumps(dict(metadata or {})),
    }
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    partial = path.with_name(path.name + ".partial")
    save_file(tensors, partial, metadata=header)
    os.replace(partial, path)
    return path


def load(path: str | Path) -> tuple[nn.Module, ModelConfig, dict[str, Any]]:
    """(model in eval mode, its config, its metadata) from a checkpoint written by `save`."""
    path = Path(path)
    kind, config, metadata = read_header(path)
    model = MODEL_KINDS[kind](config)
    try:
        model.load_state_dict(load_file(path))
    except RuntimeError as error:
        raise CheckpointError(
            f"{path}: weights do not fit a {kind} with its stored config: {error}"
        ) from error
    return model.eval(), config, metadata


def read_header(path: str | Path) -> tuple[str, ModelConfig, dict[str, Any]]:
    """(kind, config, metadata) of a checkpoint without reading its weights."""
    path = Path(path)
    try:
        with safe_open(path, framework="pt") as handle:
            header = handle.metadata() or {}
    except FileNotFoundError:
        raise
    except Exception as error:  # safetensors raises its own error types for a malformed file
        raise CheckpointError(f"{path}: not a safetensors file ({error})") from error
    missing = [key for key in (_KIND, _CONFIG, _METADATA) if key not in header]
    if missing:
        raise CheckpointError(f"{path}: not a sta-hands checkpoint (header lacks {', '.join(missing)})")
    kind = header[_KIND]
    if kind not in MODEL_KINDS:
        raise CheckpointError(
            f"{path}: unknown model kind {kind!r}; expected one of {', '.join(MODEL_KINDS)}"
        )
    try:
        config = ModelConfig.from_dict(json.loads(header[_CONFIG]))
        metadata = json.loads(header[_METADATA])
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"{path}: unreadable config or metadata: {error}") from error
    return kind, config, metadata
