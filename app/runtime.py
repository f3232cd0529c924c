"""ONNX Runtime sessions for the two exported files, their metadata, and the execution provider.

The app reads everything it needs (class names, window, glimpse size, normalisation) from the
files' `metadata_props`; nothing is re-derived from training code. No PyTorch here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import numpy as np

from recordings.errors import UserError
from recordings.onnx_contract import (
    GLIMPSE_FILE,
    GLIMPSE_INPUT,
    HEAD_FILE,
    HEAD_INPUTS,
    HEAD_OUTPUTS,
    ModelError,
    ModelInfo,
)

__all__ = ["GLIMPSE_FILE", "HEAD_FILE", "ModelError", "ModelInfo", "OnnxModel", "default_model_folder"]

log = logging.getLogger(__name__)

PROVIDER_PREFERENCE = (
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "DmlExecutionProvider",
    "CPUExecutionProvider",
)
PROVIDER_ALIASES = {"tensorrt": 0, "cuda": 1, "directml": 2, "dml": 2, "cpu": 3}
GLIMPSE_BATCH = 8  # crops per glimpse call


def default_model_folder() -> Path:
    """The bundled demo model (`models/demo/`), found through importlib.resources without torch."""
    from importlib import resources

    folder = Path(str(resources.files("models") / "demo"))
    if not (folder / HEAD_FILE).is_file():
        raise UserError(
            f"the bundled demo model is missing from {folder}; rebuild it with: python -m export.make_demo"
        )
    return folder


def import_onnxruntime() -> ModuleType:
    """onnxruntime, or a one-line message naming the extra to install."""
    try:
        import onnxruntime
    except ImportError as error:
        raise UserError(
            "ONNX Runtime is not installed: pip install 'sta-hands[cpu]' "
            "(or [gpu] for NVIDIA, [directml] for other GPUs on Windows; only one of them)"
        ) from error
    return onnxruntime


def choose_providers(available: Sequence[str], forced: str | None = None) -> list[str]:
    """Providers to ask for, best first; `forced` (cpu, cuda, tensorrt, directml) asks for one only."""
    if forced is not None:
        key = forced.lower()
        if key not in PROVIDER_ALIASES:
            raise UserError(f"unknown provider {forced!r}; choose from {', '.join(sorted(PROVIDER_ALIASES))}")
        wanted = PROVIDER_PREFERENCE[PROVIDER_ALIASES[key]]
        if wanted not in available:
            raise UserError(
                f"provider {forced} is not in this ONNX Runtime (it has {', '.join(available)}); "
                "install the matching extra: [gpu] for cuda/tensorrt, [directml] for directml"
            )
        return [wanted] if wanted == "CPUExecutionProvider" else [wanted, "CPUExecutionProvider"]
    return [p for p in PROVIDER_PREFERENCE if p in available]


def open_session(path: Path, providers: Sequence[str], threads: int = 0):  # -> InferenceSession
    """An InferenceSession for `path`, with a clear error for a missing, truncated or foreign file."""
    ort = import_onnxruntime()
    if not path.is_file():
        raise ModelError(f"{path}: model file not found" + (" (a folder)" if path.is_dir() else ""))
    options = ort.SessionOptions()
    options.log_severity_level = 3  # ORT's own warnings (e.g. no CUDA) go to our log, not the user
    options.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=list(providers))
    except Exception as error:  # ORT raises its own Fail/InvalidProtobuf/RuntimeException types
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelError(f"{path}: not a readable ONNX model ({first_line})") from error


class OnnxModel:
    """The glimpse CNN and the two-stream head of one exported model folder."""

    def __init__(self, folder: str | Path, provider: str | None = None, threads: int = 0) -> None:
        ort = import_onnxruntime()
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ModelError(
                f"{self.folder}: model folder not found (it should hold {GLIMPSE_FILE}, {HEAD_FILE})"
            )
        providers = choose_providers(ort.get_available_providers(), provider)
        self.glimpse = open_session(self.folder / GLIMPSE_FILE, providers, threads)
        self.head = open_session(self.folder / HEAD_FILE, providers, threads)
        self.info = ModelInfo.from_metadata(
            self.head.get_modelmeta().custom_metadata_map, self.folder / HEAD_FILE
        )
        self._check_glimpse(
            ModelInfo.from_metadata(
                self.glimpse.get_modelmeta().custom_metadata_map, self.folder / GLIMPSE_FILE
            )
        )
        self._check_head_io()
        self.provider = self.head.get_providers()[0]  # what runs, not what is compiled in
        log.info("model %s on %s", self.folder, self.provider)

    @property
    def name(self) -> str:
        return f"{self.folder.name} ({self.info.backbone}, {len(self.info.class_names)} classes)"

    def _check_glimpse(self, glimpse_info: ModelInfo) -> None:
        if glimpse_info != self.info:
            raise ModelError(f"{self.folder}: {GLIMPSE_FILE} and {HEAD_FILE} come from different exports")

    def _check_head_io(self) -> None:
        inputs = tuple(i.name for i in self.head.get_inputs())
        outputs = tuple(o.name for o in self.head.get_outputs())
        if inputs != HEAD_INPUTS or outputs != HEAD_OUTPUTS:
            raise ModelError(
                f"{self.folder / HEAD_FILE}: inputs {inputs} and outputs {outputs}, "
                f"expected {HEAD_INPUTS} -> {HEAD_OUTPUTS}"
            )

    def glimpse_features(self, crops: np.ndarray) -> np.ndarray:
        """N x 3 x S x S float32 -> N x D float32, in calls of at most GLIMPSE_BATCH crops.

        Larger calls are no faster on a CPU (see `sta-hands bench`), and ONNX Runtime's arena keeps
        the peak activation memory of the largest call for the rest of the session.
        """
        size = self.info.glimpse_input_size
        if crops.ndim != 4 or crops.shape[1:] != (3, size, size):
            raise ModelError(
                f"{self.folder / GLIMPSE_FILE}: crops of shape {crops.shape}, "
                f"expected N x 3 x {size} x {size}"
            )
        crops = np.ascontiguousarray(crops, dtype=np.float32)
        parts = [
            self.glimpse.run(None, {GLIMPSE_INPUT: crops[i : i + GLIMPSE_BATCH]})[0]
            for i in range(0, len(crops), GLIMPSE_BATCH)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.info.feature_dim), np.float32)

    def run_head(
        self, features: np.ndarray, hand_mask: np.ndarray, pose: np.ndarray
    ) -> dict[str, np.ndarray]:
        """B x T x 4 x D, B x T x 4, B x T x 150 -> the five outputs by name."""
        t, d = self.info.window_length, self.info.feature_dim
        expected = {"features": (t, 4, d), "hand_mask": (t, 4), "pose": (t, 150)}
        arrays = {"features": features, "hand_mask": hand_mask, "pose": pose}
        for name, array in arrays.items():
            if array.shape[1:] != expected[name]:
                shape = " x ".join(map(str, expected[name]))
                raise ModelError(
                    f"{self.folder / HEAD_FILE}: input {name} of shape {array.shape}, expected B x {shape}"
                )
        feeds = {name: np.ascontiguousarray(array, dtype=np.float32) for name, array in arrays.items()}
        return dict(zip(HEAD_OUTPUTS, self.head.run(list(HEAD_OUTPUTS), feeds), strict=True))
