"""The two bundled BlazePose networks as ONNX Runtime sessions (the one place in `recordings` that runs
ONNX Runtime, imported only when an estimator is made).

The files are MediaPipe's `pose_detection.tflite` and `pose_landmark_full.tflite` (Apache-2.0),
converted once by `scripts/convert_blazepose.py`; their inputs and outputs are renamed there to the
names below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from sta_hands.contract.errors import UserError

DETECTOR_FILE = "pose_detection.onnx"
LANDMARK_FILE = "pose_landmark_full.onnx"
IMAGE_INPUT = (
    "image"  # both: 1 x S x S x 3 float32 RGB (detector S=224 in [-1, 1], landmarks S=256 in [0, 1])
)
DETECTOR_OUTPUTS = ("boxes", "scores")  # 1 x 2254 x 12 (box + 4 keypoints, anchor-relative), 1 x 2254 x 1
LANDMARK_OUTPUTS = ("landmarks", "pose_flag", "world_landmarks")  # 1 x 195 (39 x 5), 1 x 1, 1 x 117 (39 x 3)
DEFAULT_PROVIDERS = ("CPUExecutionProvider",)  # small networks: a GPU's transfers cost more than they save


class EstimatorUnavailable(UserError):
    """The pose estimator cannot run here (model files or ONNX Runtime missing)."""


def default_model_dir() -> Path:
    """The folder of the bundled `.onnx` files."""
    return Path(str(resources.files("sta_hands.recordings.estimate") / "models"))


def _import_onnxruntime() -> ModuleType:
    try:
        import onnxruntime
    except ImportError as error:
        raise EstimatorUnavailable(
            "pose estimation needs ONNX Runtime: pip install 'sta-hands[cpu]' (or [gpu] / [directml])"
        ) from error
    return onnxruntime


def missing_files(model_dir: Path) -> list[Path]:
    """The bundled model files absent from `model_dir`."""
    return [model_dir / name for name in (DETECTOR_FILE, LANDMARK_FILE) if not (model_dir / name).is_file()]


@dataclass
class PoseSessions:
    """The detector's and the landmark network's sessions, run on one image each."""

    detector: Any  # onnxruntime.InferenceSession
    landmarks: Any
    provider: str

    def detect(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(boxes 2254 x 12, score logits 2254) for one 224 x 224 x 3 input."""
        boxes, scores = self.detector.run(list(DETECTOR_OUTPUTS), {IMAGE_INPUT: tensor[None]})
        return boxes[0], scores[0, :, 0]

    def landmark(self, tensor: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        """(landmarks 39 x 5, pose flag, world landmarks 39 x 3) for one 256 x 256 x 3 input."""
        landmarks, flag, world = self.landmarks.run(list(LANDMARK_OUTPUTS), {IMAGE_INPUT: tensor[None]})
        return landmarks.reshape(39, 5), float(flag.reshape(-1)[0]), world.reshape(39, 3)


def open_pose_sessions(
    model_dir: Path | None = None, threads: int | None = None, providers: Sequence[str] | None = None
) -> PoseSessions:
    """Sessions for the two networks in `model_dir` (default: the bundled ones), or one clear error."""
    folder = default_model_dir() if model_dir is None else Path(model_dir)
    missing = missing_files(folder)
    if missing:
        raise EstimatorUnavailable(
            f"{missing[0]}: pose model file not found (rebuild with scripts/convert_blazepose.py)"
        )
    ort = _import_onnxruntime()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    # Idle pool threads sleep instead of spinning: the estimator shares the cores with decoding, the
    # recognizer and the GUI. On 2 busy cores, 2 threads: 18 CPU ms per frame instead of 41-47 (wall 17-60
    # ms instead of 144-156), S001C001P001R001A001.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    chosen = [p for p in (providers or DEFAULT_PROVIDERS) if p in ort.get_available_providers()]
    if not chosen:
        raise EstimatorUnavailable(
            f"none of the providers {list(providers or DEFAULT_PROVIDERS)} is in this ONNX Runtime "
            f"(it has {', '.join(ort.get_available_providers())})"
        )
    sessions = []
    for name in (DETECTOR_FILE, LANDMARK_FILE):
        try:
            sessions.append(ort.InferenceSession(str(folder / name), sess_options=options, providers=chosen))
        except Exception as error:  # ORT raises its own Fail/InvalidProtobuf types
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise EstimatorUnavailable(
                f"{folder / name}: not a readable ONNX model ({first_line})"
            ) from error
    return PoseSessions(sessions[0], sessions[1], sessions[1].get_providers()[0])


def estimator_available(model_dir: Path | None = None) -> tuple[bool, str]:
    """(True, "") when the estimator can run here, else (False, one line saying why)."""
    folder = default_model_dir() if model_dir is None else Path(model_dir)
    missing = missing_files(folder)
    if missing:
        return False, f"{missing[0]}: pose model file not found (rebuild with scripts/convert_blazepose.py)"
    try:
        _import_onnxruntime()
    except EstimatorUnavailable as error:
        return False, str(error)
    return True, ""
