"""The paper's two-stream model on one window: hand crops -> glimpse features (cached per crop) -> head ->
`Prediction` with its spatial and temporal attention (`classify_window`), and the per-stream classifier
that keeps the glimpse cache and the still crops between a stream's windows (`TwoStreamWindows`,
`app.runtime.OnnxModel.window_classifier`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from sta_hands.app.hand_glimpses import GlimpseCache, StillCrops, gather_hand_glimpses
from sta_hands.app.prediction import Prediction, Status, Timings, softmax
from sta_hands.contract.body_slots import BodyIds
from sta_hands.contract.frame import Frame
from sta_hands.contract.inputs import HandFrame, glimpse_batch, window_inputs
from sta_hands.contract.onnx_contract import ModelInfo


class TwoStreamSessions(Protocol):
    """What `classify_window` reads of a two-stream model (`app.runtime.OnnxModel`)."""

    info: ModelInfo

    @property
    def head_feature_dim(self) -> int: ...

    def head_features(self, crops: np.ndarray) -> np.ndarray: ...

    def run_head_projected(
        self, head_features: np.ndarray, hand_mask: np.ndarray, pose: np.ndarray
    ) -> dict[str, np.ndarray]: ...


def classify_window(
    model: TwoStreamSessions,
    frames: Sequence[Frame | HandFrame],
    cache: GlimpseCache | None = None,
    body_ids: Sequence[int | None] | None = None,
    status: Status = "ok",
    still: StillCrops | None = None,
    pose_logits: np.ndarray | None = None,
) -> Prediction:
    """Classify one window of `window_length` frames (already sampled), reusing cached glimpses.

    `body_ids`: the body of each slot (a live `BodySlots` decides them); by default the main bodies
    of these frames. A window with no body in it is not classified (status "no person"). With
    `still`, a still hand's new crop reuses the features of the crop it barely differs from
    (`app.hand_glimpses`); frames must then come in time order, as a stream's windows do.
    `pose_logits` (C, a plugin model's pretrained pose stream: `app.plugin_model`) take the place of the
    head's Deep GRU: the logits are the head's `rgb_logits` plus these.
    """
    info = model.info
    started = time.perf_counter()
    inputs = window_inputs(frames, body_ids)
    if all(body_id is None for body_id in inputs.body_ids):
        status = "no person"
    cropped = time.perf_counter()
    glimpses = gather_hand_glimpses(
        [frame.index for frame in frames],
        inputs,
        model.head_feature_dim,
        lambda crops: model.head_features(glimpse_batch(crops, info.glimpse_input_size, info.mean, info.std)),
        cache,
        still,
    )
    glimpsed = time.perf_counter()
    if status == "no person":
        num_classes, steps = len(info.class_names), len(frames)
        out = {
            "logits": np.zeros((1, num_classes), np.float32),
            "pose_logits": np.zeros((1, num_classes), np.float32),
            "rgb_logits": np.zeros((1, num_classes), np.float32),
            "spatial_attention": np.zeros((1, steps, 4), np.float32),
            "temporal_attention": np.zeros((1, steps), np.float32),
        }
    else:
        out = model.run_head_projected(glimpses.values[None], inputs.hand_mask[None], inputs.pose[None])
    done = time.perf_counter()
    if pose_logits is not None:  # a pretrained pose stream in place of Deep GRU
        out = {**out, "pose_logits": pose_logits[None], "logits": out["rgb_logits"] + pose_logits[None]}
    with_rgb = bool(inputs.hand_mask.any())  # no hand image reached the model: the pose stream alone
    logits = out["logits"][0] if with_rgb else out["pose_logits"][0]
    return Prediction(
        frame_indices=np.array([f.index for f in frames]),
        timestamps=np.array([f.timestamp for f in frames]),
        class_names=info.class_names,
        probabilities=softmax(logits),
        pose_probabilities=softmax(out["pose_logits"][0]),
        rgb_probabilities=softmax(out["rgb_logits"][0]),
        spatial_attention=out["spatial_attention"][0],
        temporal_attention=out["temporal_attention"][0],
        hand_mask=inputs.hand_mask,
        hand_px=inputs.hand_px,
        logits=logits,
        timings=Timings(
            crop_ms=(cropped - started) * 1e3,
            glimpse_ms=(glimpsed - cropped) * 1e3,
            head_ms=(done - glimpsed) * 1e3,
            age_ms=0.0,
            crops_computed=glimpses.computed,
            crops_reused=glimpses.reused,
        ),
        body_ids=inputs.body_ids,
        crops=glimpses.crops,
        crop_frames=glimpses.crop_frames,
        hand_side_px=inputs.hand_side_px,
        status=status,
        streams=() if status == "no person" else ("pose", "rgb") if with_rgb else ("pose",),
    )


class TwoStreamWindows:
    """A two-stream model's classifier for one stream of windows: its glimpse cache and still crops live as
    long as the stream (`app.model.WindowClassifier`)."""

    def __init__(self, model: TwoStreamSessions, still_threshold: float = 0.0) -> None:
        self.model = model
        self.cache = GlimpseCache()
        self.still = StillCrops(still_threshold)

    def __call__(
        self,
        frames: Sequence[Frame | HandFrame],
        body_ids: BodyIds | None = None,
        status: Status = "ok",
        pose_logits: np.ndarray | None = None,
    ) -> Prediction:
        """`pose_logits`: another pose stream's logits in place of the head's Deep GRU (a plugin model)."""
        return classify_window(self.model, frames, self.cache, body_ids, status, self.still, pose_logits)
