"""ONNX Runtime sessions for the exported files, their metadata, and the execution provider.

A split model (`contract.onnx_contract`: glimpse.onnx, projection.onnx, head.onnx) caches each new
crop's projected glimpse (`head_features`) and runs its head on those; an unsplit one (two files, as
exported before the split) caches the glimpse features themselves and runs as before.

The app reads everything it needs (class names, window, glimpse size, normalisation) from the
files' `metadata_props`; nothing is re-derived from training code. No PyTorch here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from sta_hands.app.glimpse_engine import (
    EngineChoice,
    OpenVinoGlimpse,
    choose_engine,
    cpu_flags,
    openvino_failure,
    openvino_installed,
)
from sta_hands.app.model import summary_line
from sta_hands.app.two_stream_window import TwoStreamWindows
from sta_hands.contract.errors import UserError
from sta_hands.contract.onnx_contract import (
    GLIMPSE_FILE,
    GLIMPSE_INPUT,
    HEAD_FILE,
    HEAD_OUTPUTS,
    PROJECTION_FILE,
    PROJECTION_INPUT,
    ModelError,
    ModelInfo,
    check_graph,
    head_kind,
)
from sta_hands.contract.pose_model_contract import TWO_STREAM_KIND

__all__ = [
    "GLIMPSE_FILE",
    "HEAD_FILE",
    "HeadSettings",
    "ModelError",
    "ModelInfo",
    "OnnxModel",
    "default_model_folder",
]

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

    folder = Path(str(resources.files("sta_hands.models") / "demo"))
    if not (folder / HEAD_FILE).is_file():
        raise UserError(
            f"the bundled demo model is missing from {folder}; rebuild it with: "
            "python -m sta_hands.commands.make_demo"
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


@dataclass(frozen=True)
class HeadSettings:
    """How head.onnx's session runs (`OnnxModel(head_settings=...)`; `sta-hands bench`'s `head_ms` times
    the app's session). The split head is about 360 small nodes run one after another (20 recurrent
    steps), so how ONNX Runtime's threads hand each node over weighs on its time
    (`python scripts/head_profile.py`, docs/speed.md "Where the head's time goes").

    - `threads`: intra-op threads (0: one per core). By default (None) one for a head with int8 GRU
      matrices (an `export --int8` folder, the shipped demo's), one per core for a float32 one: with
      int8 matrices one thread was the faster in every run on 2 shared cores, 1024 units (2.25-2.33
      ms fastest, 2.68-3.58 median, against 2.46-2.57 and 2.98-4.10 with two sleeping threads woken
      for each node); a float32 head's 12.6 MB product per step streams faster on two cores (4.49-4.88
      against 6.36-6.44 ms fastest).
    - `spinning`: pool threads spin between nodes while a prediction runs (never after it returns:
      `session.force_spinning_stop`). Off by default: two spinning threads were the fastest at best
      (int8 1.84-2.11 ms) but under load the slowest at median (float32 16 ms against 9), and they
      hold both cores for the whole prediction, which the live pipeline needs (see `session_options`).
    """

    threads: int | None = None
    spinning: bool = False

    def resolved(self, int8_matrices: bool) -> HeadSettings:
        """These settings with the default thread count chosen for a head with(out) int8 GRU matrices."""
        if self.threads is not None:
            return self
        return replace(self, threads=1 if int8_matrices else 0)


def session_options(ort: ModuleType, threads: int = 0, spinning: bool = False):
    """SessionOptions with `threads` intra-op threads, spinning only while a run is in flight or never."""
    options = ort.SessionOptions()
    options.log_severity_level = 3  # ORT's own warnings (e.g. no CUDA) go to our log, not the user
    options.intra_op_num_threads = threads
    # Idle pool threads sleep instead of spinning: the sessions share the cores with decoding, the pose
    # estimator and the GUI. Live pipeline with estimated bodies, 2 busy cores (scripts/live_pose_speed.py):
    # CPU seconds per video second 0.47 -> 0.28 (640x480) and 0.66 -> 0.53 (1920x1080, two people).
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    if spinning:
        options.add_session_config_entry("session.force_spinning_stop", "1")  # none between runs
    return options


def open_session(path: Path, providers: Sequence[str], threads: int = 0, spinning: bool = False):
    """An InferenceSession for `path` (`session_options`), with a clear error for a missing, truncated
    or foreign file."""
    ort = import_onnxruntime()
    if not path.is_file():
        raise ModelError(f"{path}: model file not found" + (" (a folder)" if path.is_dir() else ""))
    options = session_options(ort, threads, spinning)
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=list(providers))
    except Exception as error:  # ORT raises its own Fail/InvalidProtobuf/RuntimeException types
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelError(f"{path}: not a readable ONNX model ({first_line})") from error


class OnnxModel:
    """The glimpse CNN and the two-stream head of one exported model folder."""

    def __init__(
        self,
        folder: str | Path,
        provider: str | None = None,
        threads: int = 0,
        engine: str | None = None,
        head_settings: HeadSettings = HeadSettings(),
    ) -> None:
        """`threads`: the glimpse and projection sessions' (0: one per core); the head's are
        `head_settings.threads` (see `HeadSettings`)."""
        ort = import_onnxruntime()
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ModelError(
                f"{self.folder}: model folder not found (it should hold {GLIMPSE_FILE}, {HEAD_FILE})"
            )
        providers = choose_providers(ort.get_available_providers(), provider)
        self.glimpse = open_session(self.folder / GLIMPSE_FILE, providers, threads)
        glimpse_metadata = self.glimpse.get_modelmeta().custom_metadata_map
        # `export --int8` marks its folders' files; it writes the split head's GRU matrices in int8
        int8 = "+int8" in glimpse_metadata.get("model_version", "")
        self.head_settings = head_settings.resolved(int8_matrices=int8)
        self.head = open_session(
            self.folder / HEAD_FILE, providers, self.head_settings.threads, self.head_settings.spinning
        )
        self.info = ModelInfo.from_metadata(
            self.head.get_modelmeta().custom_metadata_map, self.folder / HEAD_FILE
        )
        self._check_glimpse(ModelInfo.from_metadata(glimpse_metadata, self.folder / GLIMPSE_FILE))
        for session, file in ((self.head, HEAD_FILE), (self.glimpse, GLIMPSE_FILE)):  # metadata vs graph
            tensors = [*session.get_inputs(), *session.get_outputs()]
            check_graph(
                self.info.axis_values(), self.folder / file, {tensor.name: tensor.shape for tensor in tensors}
            )
        self.split = self._head_kind() == "split"
        self.projection = self._open_projection(providers, threads) if self.split else None
        self.provider = self.head.get_providers()[0]  # what runs, not what is compiled in
        self.glimpse_engine, self._openvino = self._open_glimpse_engine(engine, threads)
        log.info("model %s on %s, glimpses on %s", self.folder, self.provider, self.glimpse_engine)

    @property
    def name(self) -> str:
        return f"{self.folder.name} ({self.info.backbone}, {len(self.info.class_names)} classes)"

    # `app.model.Model`: the paper's two-stream model
    kind = TWO_STREAM_KIND
    streams = ("pose", "rgb")
    explanation = "attention"
    prediction_stride = 1  # a prediction at every grid step of the window

    def describe(self) -> str:
        return summary_line(self.folder.name, len(self.info.class_names), ("pose", "hand crops"), "attention")

    def window_classifier(self, still_threshold: float = 0.0) -> TwoStreamWindows:
        return TwoStreamWindows(self, still_threshold)

    def _check_glimpse(self, glimpse_info: ModelInfo) -> None:
        if glimpse_info != self.info:
            raise ModelError(f"{self.folder}: {GLIMPSE_FILE} and {HEAD_FILE} come from different exports")

    def _open_glimpse_engine(self, engine: str | None, threads: int) -> tuple[EngineChoice, Any]:
        """`app.glimpse_engine`'s choice for a CPU run (a GPU provider keeps ONNX Runtime), and OpenVINO's
        compiled glimpse when that is it; a glimpse OpenVINO cannot compile falls back, saying why."""
        if self.provider != "CPUExecutionProvider" and engine in (None, "auto"):
            return EngineChoice("onnxruntime", "f32", f"auto: {self.provider}"), None
        choice = choose_engine(engine, cpu_flags(), openvino_installed())
        if choice.engine != "openvino":
            return choice, None
        try:
            return choice, OpenVinoGlimpse(self.folder / GLIMPSE_FILE, choice.precision, threads)
        except Exception as error:  # OpenVINO raises its own types; the app keeps ONNX Runtime
            why = openvino_failure(error)
            log.warning("%s: OpenVINO cannot run it (%s); ONNX Runtime instead", GLIMPSE_FILE, why)
            return EngineChoice("onnxruntime", "f32", f"OpenVINO failed: {why}"), None

    def _head_kind(self) -> str:
        inputs = tuple(i.name for i in self.head.get_inputs())
        outputs = tuple(o.name for o in self.head.get_outputs())
        return head_kind(inputs, outputs, self.folder / HEAD_FILE)

    def _open_projection(self, providers: Sequence[str], threads: int):  # -> InferenceSession
        path = self.folder / PROJECTION_FILE
        if not path.is_file():
            raise ModelError(
                f"{self.folder / HEAD_FILE}: reads projected glimpses, but {PROJECTION_FILE} is missing "
                "from its folder; copy the whole exported folder, or export it again (sta-hands export)"
            )
        session = open_session(path, providers, threads)
        info = ModelInfo.from_metadata(session.get_modelmeta().custom_metadata_map, path)
        if info != self.info:
            raise ModelError(f"{self.folder}: {PROJECTION_FILE} and {HEAD_FILE} come from different exports")
        width = session.get_outputs()[0].shape[-1]
        if width != self.head_feature_dim:
            raise ModelError(
                f"{path}: projects to {width} values, {HEAD_FILE} reads {self.head_feature_dim}; "
                "they come from different exports"
            )
        return session

    @property
    def head_feature_dim(self) -> int:
        """What the head reads per hand: the projected glimpse (split) or the glimpse features."""
        return int(self.head.get_inputs()[0].shape[-1])

    def project(self, features: np.ndarray) -> np.ndarray:
        """Glimpse features N x D -> what the head reads per hand, N x `head_feature_dim` (split: the
        RGB GRU's input projection, projection.onnx; unsplit: the features themselves)."""
        if self.projection is None:
            return features
        if len(features) == 0:
            return np.zeros((0, self.head_feature_dim), np.float32)
        feeds = {PROJECTION_INPUT: np.ascontiguousarray(features, dtype=np.float32)}
        return self.projection.run(None, feeds)[0]

    def head_features(self, crops: np.ndarray) -> np.ndarray:
        """N crops -> what the head reads per hand, N x `head_feature_dim`: computed once per crop and
        cached by the recognizer."""
        return self.project(self.glimpse_features(crops))

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
        run = (
            self._openvino.run
            if self._openvino is not None
            else lambda batch: self.glimpse.run(None, {GLIMPSE_INPUT: batch})[0]
        )
        parts = [run(crops[i : i + GLIMPSE_BATCH]) for i in range(0, len(crops), GLIMPSE_BATCH)]
        return np.concatenate(parts) if parts else np.zeros((0, self.info.feature_dim), np.float32)

    def run_head(
        self, features: np.ndarray, hand_mask: np.ndarray, pose: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Glimpse features B x T x 4 x D, B x T x 4, B x T x 150 -> the five outputs by name (a split
        head's projections computed here; the recognizer caches them: `run_head_projected`)."""
        self._check_shapes({"features": features}, self.info.feature_dim)
        if self.split:
            features = self.project(features.reshape(-1, features.shape[-1])).reshape(
                (*features.shape[:-1], self.head_feature_dim)
            )
        return self.run_head_projected(features, hand_mask, pose)

    def run_head_projected(
        self, head_features: np.ndarray, hand_mask: np.ndarray, pose: np.ndarray
    ) -> dict[str, np.ndarray]:
        """B x T x 4 x `head_feature_dim` (from `head_features`), B x T x 4, B x T x 150 -> the five
        outputs by name."""
        arrays = {"features": head_features, "hand_mask": hand_mask, "pose": pose}
        self._check_shapes(arrays, self.head_feature_dim)
        names = (i.name for i in self.head.get_inputs())  # "projected" or "features", "hand_mask", "pose"
        feeds = {
            name: np.ascontiguousarray(a, np.float32) for name, a in zip(names, arrays.values(), strict=True)
        }
        return dict(zip(HEAD_OUTPUTS, self.head.run(list(HEAD_OUTPUTS), feeds), strict=True))

    def _check_shapes(self, arrays: dict[str, np.ndarray], width: int) -> None:
        t = self.info.window_length
        expected = {"features": (t, 4, width), "hand_mask": (t, 4), "pose": (t, 150)}
        for name, array in arrays.items():
            if array.shape[1:] != expected[name]:
                shape = " x ".join(map(str, expected[name]))
                raise ModelError(
                    f"{self.folder / HEAD_FILE}: input {name} of shape {array.shape}, expected B x {shape}"
                )
