"""Convert a published Shift-GCN checkpoint (CC BY-NC 4.0) into a pose model folder the app runs.

Dev-time only; the app never downloads anything, and it runs the folder with ONNX Runtime, without torch.

    python scripts/convert_shift_gcn.py                    # both bundled folders, from ../shared/weights
    python scripts/convert_shift_gcn.py CHECKPOINT.pt [--out FOLDER] [--window-length N --window-seconds S]

What it does, per checkpoint (`export.shift_gcn_export`):
1. checks the file's sha256 against the published one (the table in ../shared/weights/shift-gcn/SOURCES.md)
   and reads it as tensors only (`torch.load(weights_only=True)`);
2. builds the port (`models.shift_gcn`), exports `pose_model.onnx` (dynamic batch and frames; the authors'
   normalisation inside the graph) with its metadata (`PoseModelInfo`: NTU class names as `sta-hands info`
   gives them, the live window, the input pipeline's version, the reported accuracy, licence, source);
3. runs the ONNX file next to PyTorch on real NTU skeletons (their whole clips, the authors' 300 frames)
   and fails if any output differs by more than 1e-4;
4. copies the licence (LICENSE beside the checkpoint) and writes a NOTICE.

The bundled window (`WINDOW_LENGTH` frames covering `WINDOW_SECONDS`) was chosen by
scripts/pose_model_windows.py (docs/pretrained-pose.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

from sta_hands.contract.pose_clip import clip_joints  # noqa: E402
from sta_hands.contract.pose_model_contract import PoseModelInfo  # noqa: E402
from sta_hands.export.shift_gcn_export import (  # noqa: E402
    CHECKPOINTS,
    checkpoint_of,
    load_checkpoint,
    write_model_folder,
)
from sta_hands.models.shift_gcn_input import INPUT_PIPELINE  # noqa: E402
from sta_hands.recordings.ntu.skeleton import read_skeleton  # noqa: E402

WEIGHTS = REPO.parent / "shared" / "weights" / "shift-gcn"
SAMPLES = REPO.parent / "shared" / "samples"
BUNDLED = ("shiftgcn-ntu120-xsub", "shiftgcn-ntu60-xsub")
WINDOW_LENGTH = 60
WINDOW_SECONDS = 2.0
CHECK_FILES = ("ntu/S001C001P001R001A001.skeleton", "ntu/S017C003P020R002A058.skeleton")


def check_joints(samples: Path) -> np.ndarray:
    """Whole-clip inputs of real NTU skeletons (a one-person and a two-person clip), else a synthetic one."""
    paths = [samples / name for name in CHECK_FILES if (samples / name).exists()]
    if not paths:
        print(f"no real skeletons under {samples}: checking parity on random joints", file=sys.stderr)
        rng = np.random.default_rng(0)
        joints = rng.normal(0.0, 0.3, (2, 3, 300, 25, 2)).astype(np.float32)
        joints[:, 2] += 3.0
        return joints
    return np.stack([clip_joints(read_skeleton(path).frames) for path in paths])


def convert(checkpoint_path: Path, out: Path, window_length: int, window_seconds: float) -> None:
    checkpoint = checkpoint_of(checkpoint_path)
    model = load_checkpoint(checkpoint_path, checkpoint)
    info = PoseModelInfo(
        class_names=checkpoint.class_names,
        window_length=window_length,
        window_seconds=window_seconds,
        input_pipeline=INPUT_PIPELINE,
        model_version=f"shift-gcn joint {checkpoint.folder.removeprefix('shiftgcn-')}",
        trained_on=checkpoint.trained_on,
        reported_accuracy=checkpoint.reported_accuracy,
        licence="CC BY-NC 4.0 (weights; trained on NTU RGB+D: non-commercial use)",
        source=checkpoint.source,
    )
    licence = checkpoint_path.parent / "LICENSE"
    difference = write_model_folder(model, checkpoint, info, out, licence, check_joints(SAMPLES))
    print(f"{out}: {len(checkpoint.class_names)} classes, ONNX vs PyTorch max |diff| {difference:.2g}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, nargs="?", help="one checkpoint (default: the bundled ones)")
    parser.add_argument("--out", type=Path, help="the model folder (default: models/<its name>)")
    parser.add_argument("--window-length", type=int, default=WINDOW_LENGTH, help="frames per prediction")
    parser.add_argument("--window-seconds", type=float, default=WINDOW_SECONDS, help="seconds they cover")
    args = parser.parse_args(argv)
    if args.checkpoint is None:
        if args.out is not None:
            parser.error("--out needs a checkpoint")
        jobs = [(WEIGHTS / CHECKPOINTS[name].file, REPO / "models" / name) for name in BUNDLED]
    else:
        jobs = [(args.checkpoint, args.out or REPO / "models" / checkpoint_of(args.checkpoint).folder)]
    for checkpoint_path, out in jobs:
        convert(checkpoint_path, out, args.window_length, args.window_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
