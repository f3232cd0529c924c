"""A Shift-GCN checkpoint -> a pose model folder (`contract.pose_model_contract`): `pose_model.onnx`
with its metadata, the weights' licence and a NOTICE. `scripts/convert_shift_gcn.py` is the command.

- `CHECKPOINTS`: the authors' four published joint-stream checkpoints (`kchengiva/Shift-GCN`, commit
  `SOURCE_COMMIT`, folder `save_models/`), their sha256 and the accuracy the authors report.
- `load_checkpoint`: checks the file's sha256, then reads it as tensors only (`weights_only=True`).
- `export_pose_model`: the TorchScript exporter at opset 17 (one self-contained file), dynamic B and T;
  the ONNX file is then run next to PyTorch on `check_joints` and must agree to `TOLERANCE`.
"""

from __future__ import annotations

import hashlib
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from sta_hands.contract.errors import UserError
from sta_hands.contract.pose_model_contract import (
    POSE_MODEL_FILE,
    POSE_MODEL_INPUT,
    POSE_MODEL_OUTPUTS,
    PoseModelInfo,
)
from sta_hands.export.onnx_metadata import write_metadata
from sta_hands.models.shift_gcn import ShiftGCN
from sta_hands.recordings.ntu.names import NTU60_CLASSES, NTU120_CLASSES

OPSET = 17
TOLERANCE = 1e-4  # absolute on logits and pooled features; relative to its largest value on class_activation
REPOSITORY = "https://github.com/kchengiva/Shift-GCN"
SOURCE_COMMIT = "20276b64d16775c2de33408beb32825d2f93ffa4"
LICENCE = "CC BY-NC 4.0 (weights; trained on NTU RGB+D: non-commercial use)"
PAPER = (
    'Ke Cheng, Yifan Zhang, Xiangyu He, Weihan Chen, Jian Cheng, Hanqing Lu, "Skeleton-Based Action '
    'Recognition with Shift Graph Convolutional Network", CVPR 2020'
)


@dataclass(frozen=True)
class Checkpoint:
    """One published checkpoint: its file under save_models/, its sha256 and what it was trained on."""

    file: str
    sha256: str
    class_names: tuple[str, ...]
    trained_on: str
    reported_accuracy: str
    folder: str  # the model folder's default name

    @property
    def source(self) -> str:
        return f"{REPOSITORY}, commit {SOURCE_COMMIT}, save_models/{self.file}"


CHECKPOINTS: dict[str, Checkpoint] = {
    checkpoint.folder: checkpoint
    for checkpoint in (
        Checkpoint(
            "ntu120_ShiftGCN_joint_xsub.pt",
            "0d17f748bcafc3140edbb3d72104eeeb51d4b644d6b66c3b046036b003f40889",
            NTU120_CLASSES, "NTU RGB+D 120, cross-subject training half",
            "80.9 top-1, NTU RGB+D 120 cross-subject (joint stream, authors' figure)", "shiftgcn-ntu120-xsub",
        ),
        Checkpoint(
            "ntu120_ShiftGCN_joint_xsetup.pt",
            "8ce39dad8ca302428fe5d85c64d77bd3c5ab90e0a81e7cead8c9177b6b6a7df1",
            NTU120_CLASSES, "NTU RGB+D 120, cross-setup training half",
            "83.2 top-1, NTU RGB+D 120 cross-setup (joint stream, authors' figure)", "shiftgcn-ntu120-xsetup",
        ),
        Checkpoint(
            "ntu_ShiftGCN_joint_xsub.pt",
            "7b73c469c7af983ddf0937403e85d61bae30f01816bdd08c388827076bdd4812",
            NTU60_CLASSES, "NTU RGB+D 60, cross-subject training half",
            "87.8 top-1, NTU RGB+D 60 cross-subject (joint stream, authors' figure)", "shiftgcn-ntu60-xsub",
        ),
        Checkpoint(
            "ntu_ShiftGCN_joint_xview.pt",
            "0409e463da1836b49b4283fac9bcf32214625488a90c17a9f25f703b518293da",
            NTU60_CLASSES, "NTU RGB+D 60, cross-view training half",
            "95.1 top-1, NTU RGB+D 60 cross-view (joint stream, authors' figure)", "shiftgcn-ntu60-xview",
        ),
    )
}  # fmt: skip


def checkpoint_of(path: Path) -> Checkpoint:
    """The `CHECKPOINTS` entry of a file by its name, or a `UserError` listing the known names."""
    for checkpoint in CHECKPOINTS.values():
        if checkpoint.file == path.name:
            return checkpoint
    known = ", ".join(c.file for c in CHECKPOINTS.values())
    raise UserError(f"{path}: not one of the published Shift-GCN checkpoints ({known})")


def load_checkpoint(path: Path, checkpoint: Checkpoint) -> ShiftGCN:
    """The network of a published checkpoint, after checking its sha256; read as tensors only."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != checkpoint.sha256:
        raise UserError(f"{path}: sha256 {digest}, expected {checkpoint.sha256} ({checkpoint.file})")
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = ShiftGCN.from_checkpoint(state)
    if model.classifier.out_features != len(checkpoint.class_names):
        found, expected = model.classifier.out_features, len(checkpoint.class_names)
        raise UserError(f"{path}: {found} classes, expected {expected}")
    return model


def export_pose_model(model: ShiftGCN, info: PoseModelInfo, path: Path, check_joints: np.ndarray) -> float:
    """Write `pose_model.onnx` with `info` as metadata; returns the largest difference from PyTorch on
    `check_joints` (B x 3 x T x 25 x 2, `onnx_differences`), which must be under `TOLERANCE`."""
    model = model.eval()
    example = torch.zeros(1, 3, info.window_length, 25, 2)
    dynamic = {POSE_MODEL_INPUT: {0: "batch", 2: "frames"}, "logits": {0: "batch"},
               "class_activation": {0: "batch", 2: "steps"}, "pooled_features": {0: "batch"}}  # fmt: skip
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about shapes read in Python
        torch.onnx.export(
            model, (example,), str(path), input_names=[POSE_MODEL_INPUT],
            output_names=list(POSE_MODEL_OUTPUTS), dynamic_axes=dynamic, opset_version=OPSET, dynamo=False,
        )  # fmt: skip
    write_metadata(path, info.to_metadata(), check=True)
    differences = onnx_differences(model, path, check_joints)
    for name, difference in differences.items():
        if not difference < TOLERANCE:
            raise RuntimeError(f"{path}: {name} of ONNX and PyTorch differ by {difference:.3g} > {TOLERANCE}")
    return max(differences.values())


def onnx_differences(model: ShiftGCN, path: Path, joints: np.ndarray) -> dict[str, float]:
    """Per output, the largest absolute difference between the ONNX file's and PyTorch's on `joints`;
    class_activation's divided by its largest |value| (a sum of 256 products of values in the hundreds:
    float32 rounding alone moves it by about 1e-6 of its size)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    got = session.run(list(POSE_MODEL_OUTPUTS), {POSE_MODEL_INPUT: joints.astype(np.float32)})
    with torch.no_grad():
        want = [w.numpy() for w in model(torch.from_numpy(joints.astype(np.float32)))]
    differences = {}
    for name, g, w in zip(POSE_MODEL_OUTPUTS, got, want, strict=True):
        scale = max(1.0, float(np.abs(w).max())) if name == "class_activation" else 1.0
        differences[name] = float(np.abs(g - w).max()) / scale
    return differences


def notice(checkpoint: Checkpoint) -> str:
    """The NOTICE beside a converted model: who made the weights, where from, the terms."""
    return (
        f"{POSE_MODEL_FILE} is converted from the Shift-GCN joint-stream checkpoint {checkpoint.file}\n"
        f"({checkpoint.trained_on}), published by its authors in {REPOSITORY}\n"
        f"(commit {SOURCE_COMMIT}, folder save_models/).\n\n"
        f"Paper: {PAPER}.\n"
        f"Reported accuracy: {checkpoint.reported_accuracy}.\n\n"
        "Licence: Creative Commons Attribution-NonCommercial 4.0 International (the LICENSE file beside\n"
        "this one, copied from the repository). Trained on NTU RGB+D: non-commercial use. The NTU RGB+D\n"
        "dataset's own terms (ROSE Lab, Nanyang Technological University) restrict it to non-commercial\n"
        "research.\n\n"
        "Changes made by sta-hands (scripts/convert_shift_gcn.py, models/shift_gcn.py): the network\n"
        "re-implemented in plain PyTorch (the temporal shift as a depthwise convolution, the spatial shift\n"
        "as a fixed permutation, the shift along joints, about 1e-10, left out), the authors' input\n"
        "normalisation added inside the graph, the class activation and pooled features added as outputs,\n"
        f"exported to ONNX (opset {OPSET}). The weights are the authors', unchanged.\n"
    )


def write_model_folder(
    model: ShiftGCN, checkpoint: Checkpoint, info: PoseModelInfo, folder: Path, licence: Path,
    check_joints: np.ndarray,
) -> float:  # fmt: skip
    """`pose_model.onnx`, LICENSE (copied from `licence`) and NOTICE in `folder`; returns the parity."""
    folder.mkdir(parents=True, exist_ok=True)
    difference = export_pose_model(model, info, folder / POSE_MODEL_FILE, check_joints)
    shutil.copyfile(licence, folder / "LICENSE")
    (folder / "NOTICE").write_text(notice(checkpoint), encoding="utf-8")
    return difference
