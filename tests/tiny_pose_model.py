"""A tiny stand-in for a pretrained pose model (`contract.pose_model_contract`), exported by the tests.

Its outputs depend on the joints: each joint of each person, taken relative to person 1's SpineMid,
goes through a fixed linear map and tanh (plus a per-joint term), time is pooled by 4 (ceil, as a
Shift-GCN's two stride-2 layers); `class_activation` is the classifier's weights applied to those
features at each (step, joint, person), so its mean plus the bias is `logits`, as the contract says.
"""

from __future__ import annotations

from pathlib import Path

from sta_hands.contract.pose_model_contract import (
    POSE_MODEL_FILE,
    POSE_MODEL_INPUT,
    POSE_MODEL_OUTPUTS,
    PoseModelInfo,
)

TINY_CLASSES = ("wave", "drink", "clap", "kick", "sit down", "point")
FEATURES = 8


def tiny_pose_info(
    classes: tuple[str, ...] = TINY_CLASSES, window_length: int = 32, window_seconds: float = 1.0
) -> PoseModelInfo:
    return PoseModelInfo(
        class_names=classes,
        window_length=window_length,
        window_seconds=window_seconds,
        input_pipeline="tiny-test/1",
        model_version="tiny pose test model",
        trained_on="nothing (fixed random weights)",
        reported_accuracy="",
        licence="MIT",
        source="tests/tiny_pose_model.py",
    )


def export_tiny_pose_model(folder: Path, info: PoseModelInfo | None = None, seed: int = 0) -> Path:
    """Write `folder/pose_model.onnx` with `info`'s metadata; returns the folder."""
    import torch
    from torch import nn

    from sta_hands.export.onnx_metadata import write_metadata

    info = info or tiny_pose_info()

    class TinyPoseModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            generator = torch.Generator().manual_seed(seed)
            self.mix = nn.Parameter(torch.randn(FEATURES, 3, generator=generator) * 2.0)
            self.per_joint = nn.Parameter(torch.randn(FEATURES, 25, generator=generator) * 0.5)
            self.fc = nn.Linear(FEATURES, len(info.class_names))
            with torch.no_grad():
                self.fc.weight.copy_(torch.randn(len(info.class_names), FEATURES, generator=generator))
                self.fc.bias.copy_(torch.randn(len(info.class_names), generator=generator) * 0.1)

        def forward(self, joints: torch.Tensor):  # B x 3 x T x 25 x 2
            relative = joints - joints[:, :, :, 1:2, 0:1]
            features = torch.einsum("fc,bctvm->bftvm", self.mix, relative)
            features = torch.tanh(features + self.per_joint[None, :, None, :, None])
            features = nn.functional.avg_pool3d(features, (4, 1, 1), (4, 1, 1), ceil_mode=True)
            activation = torch.einsum("kf,bftvm->bktvm", self.fc.weight, features)
            pooled = features.mean(dim=(2, 3, 4))
            logits = self.fc(pooled)
            return logits, activation, pooled

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / POSE_MODEL_FILE
    example = torch.zeros(1, 3, info.window_length, 25, 2)
    dynamic = {POSE_MODEL_INPUT: {0: "batch", 2: "time"}, "logits": {0: "batch"}}
    dynamic |= {"class_activation": {0: "batch", 2: "steps"}, "pooled_features": {0: "batch"}}
    torch.onnx.export(
        TinyPoseModel().eval(),
        (example,),
        str(path),
        input_names=[POSE_MODEL_INPUT],
        output_names=list(POSE_MODEL_OUTPUTS),
        dynamic_axes=dynamic,
        opset_version=17,
        dynamo=False,
    )
    write_metadata(path, info.to_metadata())
    return folder
