"""A plugin model: STA-Hands' RGB stream with a pretrained pose stream (Shift-GCN) in place of Deep GRU, the
paper's "plugin to any powerful pose stream" (`contract.pose_model_contract.PLUGIN_KIND`).

The folder holds the two-stream files (glimpse.onnx, projection.onnx, head.onnx: the app reads the head's
`rgb_logits` and its attention, not its Deep GRU) and a `pose_model.onnx`. Each stream sees its own live
window: the recognizer's window is the longer of the two on the finer of the two time grids
(`PluginFacts`), from which each stream takes its own samples (`contract.inputs.time_window_indices`),
both ending at the same moment and on the same people (one `BodySlots` decision). The pose model's logits
of the head's classes, picked by name, are added to the RGB stream's (`app.two_stream_window`'s
`pose_logits`); the prediction shows both streams' opinions and the RGB stream's attention, over its
own window. It predicts at the pose model's rate. No PyTorch here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sta_hands.app.hand_glimpses import GlimpseCache
from sta_hands.app.model import summary_line
from sta_hands.app.pose_model import PREDICTIONS_PER_SECOND, PoseModel
from sta_hands.app.prediction import Prediction, Status
from sta_hands.app.runtime import OnnxModel
from sta_hands.app.two_stream_window import TwoStreamWindows
from sta_hands.contract.body_slots import NUM_BODIES, BodyIds, padded, select_main_bodies
from sta_hands.contract.frame import Frame
from sta_hands.contract.inputs import HandFrame, time_window_indices, window_grid_step, window_inputs
from sta_hands.contract.onnx_contract import HEAD_FILE, ModelError
from sta_hands.contract.pose_model_contract import PLUGIN_KIND, POSE_MODEL_FILE, PoseModelInfo


@dataclass(frozen=True)
class PluginFacts:
    """What the recognizer reads of a plugin model (`app.model.ModelFacts`): the head's classes, and the
    window that holds both streams' windows."""

    class_names: tuple[str, ...]
    window_length: int
    window_seconds: float
    model_version: str
    trained_on: str  # the head's: the hand attention the explain dialog shows is the head's


def outer_window(windows: Sequence[tuple[int, float]]) -> tuple[int, float]:
    """(length, seconds) of a window spanning the longest of `windows` on the finest of their grids."""
    seconds = max(s for _, s in windows)
    step = min(window_grid_step(s, n) for n, s in windows)
    return math.ceil(seconds / step - 1e-6) + 1, seconds


def pose_columns(head_classes: Sequence[str], pose_info: PoseModelInfo, path: Path) -> np.ndarray:
    """The pose model's logit of each of the head's classes, by name; a class it does not know is a
    `ModelError` (both streams must speak of the same actions)."""
    index = {name: i for i, name in enumerate(pose_info.class_names)}
    unknown = [name for name in head_classes if name not in index]
    if unknown:
        raise ModelError(
            f"{path}: the pose model knows no class {', '.join(map(repr, unknown[:3]))} of {HEAD_FILE}; "
            f"a plugin needs the same class names in both streams ({pose_info.model_version} has "
            f"{len(pose_info.class_names)} NTU names)"
        )
    return np.array([index[name] for name in head_classes])


class PluginModel:
    """head.onnx's RGB stream + pose_model.onnx of one folder, as an `app.model.Model`."""

    kind = PLUGIN_KIND
    streams = ("pose", "rgb")
    explanation = "attention"  # the RGB stream's, the paper's

    def __init__(self, folder: str | Path, provider: str | None = None, threads: int = 0) -> None:
        self.folder = Path(folder)
        self.two_stream = OnnxModel(self.folder, provider=provider, threads=threads)
        self.pose = PoseModel(self.folder, provider=provider, threads=threads)
        self.provider = self.two_stream.provider
        self.head = self.two_stream.head  # head.onnx's session: its metadata (a taught model's record)
        head = self.two_stream.info
        self.columns = pose_columns(head.class_names, self.pose.info, self.folder / POSE_MODEL_FILE)
        length, seconds = outer_window(
            [
                (head.window_length, head.window_seconds),
                (self.pose.info.window_length, self.pose.info.window_seconds),
            ]
        )
        version = f"{head.model_version} + {self.pose.info.model_version}"
        self.info = PluginFacts(head.class_names, length, seconds, version, head.trained_on)

    @property
    def name(self) -> str:
        classes = len(self.info.class_names)
        return f"{self.folder.name} ({classes} classes, STA-Hands + {self.pose.info.model_version})"

    @property
    def prediction_stride(self) -> int:
        """Grid steps between two predictions: the pose model's rate (PREDICTIONS_PER_SECOND of source)."""
        step = window_grid_step(self.info.window_seconds, self.info.window_length)
        return max(1, round(1.0 / (PREDICTIONS_PER_SECOND * step)))

    def describe(self) -> str:
        streams = (f"pose ({self.pose.info.model_version})", "hand crops")
        return summary_line(self.folder.name, len(self.info.class_names), streams, self.explanation)

    def pose_logits(
        self, frames: Sequence[Frame | HandFrame], body_ids: BodyIds, status: Status = "ok"
    ) -> np.ndarray:
        """The pose model's logits of the head's classes, on its own window of `frames`, read as the pose
        model alone reads a window (`app.pose_model.PoseModel.run_window`)."""
        info = self.pose.info
        picked = time_window_indices([f.timestamp for f in frames], info.window_seconds, info.window_length)
        window = [frames[i] for i in picked]
        out, _ = self.pose.run_window(window_inputs(window, body_ids).pose, [f.index for f in window], status)
        return out["logits"][0, self.columns]

    @property
    def head_feature_dim(self) -> int:
        """The RGB stream's, as `app.runtime.OnnxModel` (evaluation's faithfulness reads the head)."""
        return self.two_stream.head_feature_dim

    def run_head_projected(
        self, head_features: np.ndarray, hand_mask: np.ndarray, pose: np.ndarray
    ) -> dict[str, np.ndarray]:
        """head.onnx's outputs (its `rgb_logits` are the RGB stream's; its Deep GRU is not this model's)."""
        return self.two_stream.run_head_projected(head_features, hand_mask, pose)

    def window_classifier(self, still_threshold: float = 0.0) -> PluginWindows:
        return PluginWindows(self, still_threshold)


class PluginWindows:
    """A plugin model's classifier for one stream of windows (`app.model.WindowClassifier`): the RGB
    stream's windows (their glimpse cache and still crops live as long as the stream) with the pretrained
    pose model's logits in place of Deep GRU's."""

    def __init__(self, model: PluginModel, still_threshold: float = 0.0) -> None:
        self.model = model
        self.rgb = TwoStreamWindows(model.two_stream, still_threshold)

    @property
    def cache(self) -> GlimpseCache:
        """The RGB stream's glimpse cache (evaluation reads back the glimpses the head read)."""
        return self.rgb.cache

    def __call__(
        self, frames: Sequence[Frame | HandFrame], body_ids: BodyIds | None = None, status: Status = "ok"
    ) -> Prediction:
        head = self.model.two_stream.info
        picked = time_window_indices([f.timestamp for f in frames], head.window_seconds, head.window_length)
        rgb_frames = [frames[i] for i in picked]
        if body_ids is None:
            body_ids = padded(select_main_bodies([f.bodies for f in frames], count=NUM_BODIES))
        started = time.perf_counter()
        someone = any(body_id is not None for body_id in body_ids)
        pose_logits = (
            self.model.pose_logits(frames, body_ids, status)
            if someone
            else np.zeros(len(head.class_names), np.float32)
        )
        pose_ms = (time.perf_counter() - started) * 1e3
        prediction = self.rgb(rgb_frames, body_ids, status, pose_logits)
        timings = replace(prediction.timings, head_ms=prediction.timings.head_ms + pose_ms)
        return replace(prediction, timings=timings, model_streams=self.model.streams)
