"""A pretrained pose stream plugged into an exported model folder (a plugin model,
`contract.pose_model_contract.PLUGIN_KIND`): `export --pose-stream shift-gcn` (or a pose model
folder) copies that model's `pose_model.onnx`, with its licence and notice, beside the two-stream
files; the app then sums its logits with the RGB stream's (`app.plugin_model`).

"shift-gcn" picks a bundled Shift-GCN folder whose NTU class names hold every class of the model: the
NTU-60 one when they all are NTU-60 actions (it is the more accurate within its 60), else the NTU-120
one. No PyTorch here.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from sta_hands.app.model_choice import bundled_folder
from sta_hands.app.plugin_model import pose_columns
from sta_hands.app.pose_model import PoseModel
from sta_hands.contract.errors import UserError
from sta_hands.contract.onnx_contract import ModelError
from sta_hands.contract.pose_model_contract import POSE_MODEL_FILE

DEEP_GRU = "deep-gru"  # the paper's own pose stream, trained with the model: nothing to plug
SHIFT_GCN = "shift-gcn"
POSE_STREAM_CHOICES = (DEEP_GRU, SHIFT_GCN)
SHIFT_GCN_FOLDERS = ("shiftgcn-ntu60-xsub", "shiftgcn-ntu120-xsub")  # in order of preference
PLUGGED_FILES = (POSE_MODEL_FILE, "LICENSE", "NOTICE")  # what plugging copies (those the folder has)


def pose_stream_folder(choice: str, class_names: Sequence[str]) -> Path | None:
    """The pose model folder `choice` names for a model of `class_names`: None for Deep GRU, a bundled
    Shift-GCN for "shift-gcn", else `choice` itself as a folder; one that does not know every class is a
    `UserError` naming the classes."""
    if choice == DEEP_GRU:
        return None
    if choice != SHIFT_GCN:
        folder = Path(choice)
        if not (folder / POSE_MODEL_FILE).is_file():
            raise UserError(
                f"--pose-stream {choice}: expected {DEEP_GRU}, {SHIFT_GCN} or a folder with {POSE_MODEL_FILE}"
            )
        return folder
    for name in SHIFT_GCN_FOLDERS:
        folder = bundled_folder(name)
        if not (folder / POSE_MODEL_FILE).is_file():
            continue
        try:
            pose_columns(class_names, PoseModel(folder).info, folder / POSE_MODEL_FILE)
        except ModelError:
            continue
        return folder
    raise UserError(
        f"--pose-stream {SHIFT_GCN}: no bundled Shift-GCN knows every class of this model "
        f"({', '.join(map(repr, list(class_names)[:3]))}, ...); its class names must be NTU RGB+D action "
        "names, as `sta-hands info` gives them"
    )


def plug_pose_stream(folder: str | Path, pose_folder: str | Path) -> Path:
    """Copy `pose_folder`'s pose model (and its LICENSE, NOTICE) into the exported `folder`, after checking
    that it knows every class of the folder's head; the folder becomes a plugin model."""
    from sta_hands.app.runtime import OnnxModel

    folder, pose_folder = Path(folder), Path(pose_folder)
    head = OnnxModel(folder)
    pose_columns(head.info.class_names, PoseModel(pose_folder).info, pose_folder / POSE_MODEL_FILE)
    for name in PLUGGED_FILES:
        if (pose_folder / name).is_file():
            shutil.copyfile(pose_folder / name, folder / name)
    return folder
