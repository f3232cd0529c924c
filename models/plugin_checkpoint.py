"""A two-stream checkpoint for a plugin model (`contract.pose_model_contract.PLUGIN_KIND`): a trained RGB
stream (STA-Hands) with its Deep GRU zeroed, since a pretrained pose stream takes its place at export
(`export --pose-stream`, `export.plugin`). Zeroed, not random: should head.onnx ever run without its
pose model, its pose logits are 0 and the model is the RGB stream alone.
"""

from __future__ import annotations

from pathlib import Path

import torch

from sta_hands.models import checkpoint
from sta_hands.models.data import DataError
from sta_hands.models.rgb_stream import STAHands
from sta_hands.models.two_stream import TwoStreamModel

POSE_STREAM_KEY = "pose_stream"  # in the checkpoint's metadata: the pretrained pose stream to plug in
KEPT = ("class_names", "backbone", "backbone_weights", "window_seconds", "trained_on", "split")


def plugin_checkpoint(rgb_checkpoint: str | Path, out: str | Path, pose_stream: str) -> Path:
    """A `TwoStreamModel` checkpoint at `out` from an RGB-stream checkpoint, its pose stream zeroed and
    `pose_stream` named in its metadata."""
    rgb, config, rgb_meta = checkpoint.load(rgb_checkpoint)
    if not isinstance(rgb, STAHands):
        raise DataError(rgb_checkpoint, "expected an RGB-stream (STAHands) checkpoint")
    model = TwoStreamModel(config)
    model.rgb_stream.load_state_dict(rgb.state_dict())
    with torch.no_grad():
        for parameter in model.pose_stream.parameters():
            parameter.zero_()
    metadata = {key: rgb_meta[key] for key in KEPT if key in rgb_meta}
    metadata.update(
        stream="both", rgb_val_accuracy=rgb_meta.get("val_accuracy"), **{POSE_STREAM_KEY: pose_stream}
    )
    return checkpoint.save(model.eval(), config, out, metadata)
