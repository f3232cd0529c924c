"""A pretrained pose-only model (`contract.pose_model_contract`: Shift-GCN), run over ONNX Runtime.

It reads the joints alone: the live window is the last `window_seconds` of bodies on the time grid,
`window_length` frames, the two people in the app's own body slots (`contract.body_slots`), a missing
person or frame zeros. No glimpse CNN runs, so it works on skeleton-only files too; where there is
video the hand crops are still cut, to be shown. It predicts every `prediction_stride` grid steps, about
PREDICTIONS_PER_SECOND times a second of the source, and explains by class relevance (`app.relevance`).
No PyTorch here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sta_hands.app.model import summary_line
from sta_hands.app.prediction import Prediction, Status, Timings, softmax
from sta_hands.app.relevance import window_relevance
from sta_hands.app.runtime import choose_providers, import_onnxruntime, open_session
from sta_hands.contract.body_slots import BodyIds
from sta_hands.contract.frame import Frame
from sta_hands.contract.inputs import HandFrame, window_inputs
from sta_hands.contract.onnx_contract import ModelError, check_graph
from sta_hands.contract.pose_model_contract import (
    JOINTS,
    PEOPLE,
    POSE_MODEL_FILE,
    POSE_MODEL_INPUT,
    POSE_MODEL_KIND,
    POSE_MODEL_OUTPUTS,
    PoseModelInfo,
)

log = logging.getLogger(__name__)

PREDICTIONS_PER_SECOND = 5.0  # a pose model's live prediction rate (of source time)


def joints_input(pose: np.ndarray) -> np.ndarray:
    """T x 150 (`contract.inputs.pose_array`: slot, joint, xyz) -> the contract's 1 x 3 x T x 25 x 2."""
    frames = pose.reshape(len(pose), PEOPLE, JOINTS, 3)
    return np.ascontiguousarray(frames.transpose(3, 0, 2, 1)[None], dtype=np.float32)


def window_positions_read(frame_indices: Sequence[int], status: Status) -> np.ndarray | None:
    """Which of a window's positions the model reads, in order; None: all of them as they are.

    A partial window (a source shorter than the window) holds the source's first frame at the grid points
    before it starts. The model reads the source's frames from its first one on instead, repeated from the
    start until the window is full, as the Shift-GCN authors fill a short clip (`contract.pose_clip`)."""
    if status != "partial":
        return None
    first = max(i for i, index in enumerate(frame_indices) if index == frame_indices[0])
    kept = np.arange(first, len(frame_indices))
    return kept[np.arange(len(frame_indices)) % len(kept)]


class PoseModel:
    """`pose_model.onnx` of one model folder, as an `app.model.Model`."""

    kind = POSE_MODEL_KIND
    streams = ("pose",)
    explanation = "relevance"

    def __init__(self, folder: str | Path, provider: str | None = None, threads: int = 0) -> None:
        ort = import_onnxruntime()
        self.folder = Path(folder)
        path = self.folder / POSE_MODEL_FILE
        if not self.folder.is_dir():
            raise ModelError(f"{self.folder}: model folder not found (it should hold {POSE_MODEL_FILE})")
        self.session = open_session(path, choose_providers(ort.get_available_providers(), provider), threads)
        self.info = PoseModelInfo.from_metadata(self.session.get_modelmeta().custom_metadata_map, path)
        inputs = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        if inputs != [POSE_MODEL_INPUT] or not set(POSE_MODEL_OUTPUTS) <= set(outputs):
            raise ModelError(
                f"{path}: inputs {inputs} and outputs {outputs}; expected the input {POSE_MODEL_INPUT!r} "
                f"and the outputs {', '.join(POSE_MODEL_OUTPUTS)}"
            )
        shapes = {tensor.name: tensor.shape for tensor in self.session.get_outputs()}
        check_graph(self.info.axis_values(), path, shapes)  # e.g. as many class names as logits
        self.provider = self.session.get_providers()[0]
        log.info("pose model %s on %s", self.folder, self.provider)

    @property
    def name(self) -> str:
        return f"{self.folder.name} ({len(self.info.class_names)} classes, pose only)"

    @property
    def prediction_stride(self) -> int:
        """Grid steps between two predictions: PREDICTIONS_PER_SECOND of the source's time."""
        step = self.info.window_seconds / self.info.window_length
        return max(1, round(1.0 / (PREDICTIONS_PER_SECOND * step)))

    def describe(self) -> str:
        title = self.info.model_version or self.folder.name
        return summary_line(title, len(self.info.class_names), self.streams, self.explanation)

    def run(self, joints: np.ndarray) -> dict[str, np.ndarray]:
        """B x 3 x T x 25 x 2 raw joints -> the contract's outputs by name."""
        if joints.ndim != 5 or joints.shape[1] != 3 or joints.shape[3:] != (JOINTS, PEOPLE):
            raise ModelError(
                f"{self.folder / POSE_MODEL_FILE}: joints of shape {joints.shape}, "
                f"expected B x 3 x T x {JOINTS} x {PEOPLE}"
            )
        feeds = {POSE_MODEL_INPUT: np.ascontiguousarray(joints, dtype=np.float32)}
        return dict(zip(POSE_MODEL_OUTPUTS, self.session.run(list(POSE_MODEL_OUTPUTS), feeds), strict=True))

    def run_window(
        self, pose: np.ndarray, frame_indices: Sequence[int], status: Status
    ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """The model on one window's pose (T x 150, `contract.inputs.pose_array`): its outputs, and the
        window positions it read (`window_positions_read`)."""
        read = window_positions_read(frame_indices, status)
        return self.run(joints_input(pose if read is None else pose[read])), read

    def window_classifier(self, still_threshold: float = 0.0) -> PoseModel:
        """Itself: a pose model keeps nothing between windows (no crop is read, so no still crops)."""
        return self

    def __call__(
        self, frames: Sequence[Frame | HandFrame], body_ids: BodyIds | None = None, status: Status = "ok"
    ) -> Prediction:
        """One window of frames (already sampled); `body_ids` as `app.two_stream_window.classify_window`."""
        started = time.perf_counter()
        inputs = window_inputs(frames, body_ids)
        prepared = time.perf_counter()
        present = inputs.pose.reshape(len(frames), PEOPLE, JOINTS * 3).any(axis=2)  # T x 2
        num_classes = len(self.info.class_names)
        if all(body_id is None for body_id in inputs.body_ids):
            status = "no person"
            logits = np.zeros(num_classes, np.float32)
            activation = np.zeros((1, JOINTS, PEOPLE), np.float32)
            read = None
        else:
            out, read = self.run_window(inputs.pose, [f.index for f in frames], status)
            logits = out["logits"][0]
            activation = out["class_activation"][0, int(np.argmax(logits))]
        done = time.perf_counter()
        relevance = window_relevance(activation, present if read is None else present[read], read)
        probabilities = softmax(logits)
        return Prediction(
            frame_indices=np.array([f.index for f in frames]),
            timestamps=np.array([f.timestamp for f in frames]),
            class_names=self.info.class_names,
            probabilities=probabilities,
            pose_probabilities=probabilities,
            rgb_probabilities=np.zeros(num_classes, np.float32),
            spatial_attention=relevance.hands,
            temporal_attention=relevance.over_time,
            hand_mask=np.repeat(present, 2, axis=1).astype(np.float32),  # its hand joints reached it
            hand_px=inputs.hand_px,
            logits=logits,
            timings=Timings(
                crop_ms=(prepared - started) * 1e3,
                glimpse_ms=0.0,
                head_ms=(done - prepared) * 1e3,
                age_ms=0.0,
                crops_computed=0,
            ),
            body_ids=inputs.body_ids,
            crops=inputs.crops,
            hand_side_px=inputs.hand_side_px,
            status=status,
            streams=self.streams,
            model_streams=self.streams,
            explanation="relevance",
            joint_relevance=relevance.joint_relevance,
        )
