"""Evaluate what ships: a model folder of either kind (the two-stream glimpse.onnx + head.onnx, or a pose
model's pose_model.onnx: `app.model_choice.open_model`) on the clips themselves.

For every sub-sequence (the same frames `models.evaluate` uses: `models.data.evaluation_windows`),
the frames are read from the clip and classified by the app's own window classifier (`app.model.Model`:
crops, glimpse CNN and head, or the joints through the pose model, on ONNX Runtime), so the numbers are
those of the app, not of the training code. The report is `models.evaluate`'s.

Per-stream logits: a `Prediction` carries the fused logits and each stream's probabilities; the
streams' views are averaged as log-probabilities, which differ from their logits by a constant per
view, so the predicted class is the same as with averaged logits.

With `streaming`, every test clip is also replayed through the live path, as `sta-hands run CLIP
--headless` does (`app.headless.run_headless`: the app's source, a lossless `StreamRecognizer` fed frame
by frame, only the images that some window samples decoded), and each full window (status "ok") is
scored on its own: `report["streaming"]` (`models.evaluate.streaming_summary`).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from sta_hands.app.faithfulness_note import FAITHFULNESS_FILE
from sta_hands.app.hand_glimpses import gather_hand_glimpses
from sta_hands.app.headless import run_headless
from sta_hands.app.model import Model, WindowClassifier
from sta_hands.app.model_choice import open_model
from sta_hands.app.pose_model import PoseModel, joints_input
from sta_hands.app.recognizer import GlimpseCache, Prediction
from sta_hands.app.runtime import OnnxModel
from sta_hands.contract.inputs import HandFrame, window_inputs
from sta_hands.models.data import (
    ClipRef,
    DataError,
    Dataset,
    active_hands,
    clip_hand_frames,
    evaluation_windows,
    num_frames,
    open_clip,
)
from sta_hands.models.evaluate import (
    SEED,
    VIEWS,
    ClipOutcome,
    build_report,
    outcome_from_views,
    streaming_summary,
)
from sta_hands.models.faithfulness import (
    PoseProbabilities,
    RgbProbabilities,
    hand_removal_drops,
    joint_holding_drops,
)


def classify_frames(
    model: Model,
    frames: Mapping[int, HandFrame],
    indices: Sequence[int] | np.ndarray,
    classify: WindowClassifier | None = None,
) -> Prediction:
    """The app's prediction on the frames at `indices` (a window, in order), by `classify` (one of the
    model's window classifiers, which may keep a cache between windows; a fresh one by default)."""
    classify = classify or model.window_classifier()
    return classify([frames[int(i)] for i in indices])


def evaluate_clip(model: Model, clip: ClipRef, views: int = VIEWS, seed: int = SEED) -> ClipOutcome:
    """The clip's outcome over its evaluation windows, every window through the model's own window
    classifier (`app.model.Model`; the two-stream one keeps the clip's glimpse cache: its crops go
    through the CNN once, whatever the windows share). Each stream the model has is scored; the
    attention views and the faithfulness drops where it has the paper's attention over hand crops, or a
    pose model's relevance over joints (the random joints drawn from a seed of `seed` and the clip's
    name)."""
    windows = evaluation_windows(clip.name, num_frames(clip), model.info.window_length, views, seed)
    frames = clip_hand_frames(clip, np.unique(np.concatenate(windows)))
    classify = model.window_classifier()
    attention = model.explanation == "attention" and "rgb" in model.streams
    outputs: dict[str, list[np.ndarray]] = {}
    head_inputs: list[tuple[np.ndarray, ...]] = []  # per window, for the faithfulness drops
    relevance = isinstance(model, PoseModel)
    pose_windows: list[tuple[np.ndarray, np.ndarray]] = []  # a pose model's: per window, pose and relevance
    for indices in windows:
        prediction = classify_frames(model, frames, indices, classify)
        values = {"logits": prediction.logits}
        for stream in model.streams:
            probabilities = getattr(prediction, f"{stream}_probabilities")
            values[f"{stream}_logits"] = np.log(np.maximum(probabilities, 1e-30))
        if attention:
            head_inputs.append(_head_inputs(model, frames, indices, classify.cache, prediction))
            values |= {"spatial_attention": prediction.spatial_attention, "hand_mask": prediction.hand_mask}
        window = [frames[int(i)] for i in prediction.frame_indices]  # what the explanation is over
        if relevance:
            pose_windows.append((window_inputs(window, prediction.body_ids).pose, prediction.joint_relevance))
        if clip.synthetic:
            inputs = window_inputs(window)  # the slot order the app gives this window
            values["active_hands"] = active_hands(clip, window, inputs.body_ids)
            values["pose"] = inputs.pose  # for the attention baselines (`models.evaluate`)
        for key, value in values.items():
            outputs.setdefault(key, []).append(value)
    drops = None
    if relevance:
        pose, joint_relevance = (np.stack(values) for values in zip(*pose_windows, strict=True))
        name_seed = [seed, zlib.crc32(clip.name.encode("utf-8"))]
        drops = joint_holding_drops(_pose_probabilities(model), pose, joint_relevance, seed=name_seed)
    if attention:
        features, hand_mask, pose, spatial = (np.stack(values) for values in zip(*head_inputs, strict=True))
        drops = hand_removal_drops(_rgb_probabilities(model), features, hand_mask, pose, spatial)
    views = {key: np.stack(value) for key, value in outputs.items()}
    return outcome_from_views(clip.name, clip.label, views, drops)


def _head_inputs(
    model: OnnxModel,
    frames: Mapping[int, HandFrame],
    indices: np.ndarray,
    cache: GlimpseCache,
    prediction: Prediction,
) -> tuple[np.ndarray, ...]:
    """What the head read for `prediction`'s window (its glimpses, from `cache`, which the prediction
    filled) and the attention it gave: features T x 4 x P, hand mask T x 4, pose T x 150, attention T x 4."""
    read = prediction.frame_indices  # `indices`, or a plugin model's RGB stream's own window within them
    inputs = window_inputs([frames[int(i)] for i in read], prediction.body_ids)
    glimpses = gather_hand_glimpses(
        [int(i) for i in read], inputs, model.head_feature_dim, _no_new_crop, cache
    )
    return glimpses.values, inputs.hand_mask, inputs.pose, prediction.spatial_attention


def _no_new_crop(crops: np.ndarray) -> np.ndarray:
    raise AssertionError(f"{len(crops)} crops missing from the window's glimpse cache")


def _rgb_probabilities(model: OnnxModel) -> RgbProbabilities:
    """The exported head's RGB probabilities on what it reads per hand (`models.faithfulness`)."""

    def probabilities(features: np.ndarray, hand_mask: np.ndarray, pose: np.ndarray) -> np.ndarray:
        return _softmax_rows(model.run_head_projected(features, hand_mask, pose)["rgb_logits"])

    return probabilities


def _pose_probabilities(model: PoseModel) -> PoseProbabilities:
    """The pose model's probabilities on B full windows' pose B x T x 150 (`models.faithfulness`)."""

    def probabilities(pose: np.ndarray) -> np.ndarray:
        return _softmax_rows(model.run(np.concatenate([joints_input(window) for window in pose]))["logits"])

    return probabilities


def _softmax_rows(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def save_faithfulness(folder: str | Path, report: Mapping[str, Any], data: str | None = None) -> Path:
    """The report's `faithfulness` into `folder`/faithfulness.json (`app.faithfulness_note`), with what it
    was measured on (`data`: how to name the data, default the report's path); a report without it is
    refused in one line."""
    figures = report.get("faithfulness")
    if not figures:
        raise DataError(
            Path(folder),
            "no faithfulness figures to save: no test window with two hands in view (a pose model: with "
            "someone in view)",
        )
    path = Path(folder) / FAITHFULNESS_FILE
    measured_on = {key: report.get(key) for key in ("data", "split", "clips", "views", "seed")}
    if data is not None:
        measured_on["data"] = data
    path.write_text(json.dumps({**figures, "measured_on": measured_on}, indent=2) + "\n", encoding="utf-8")
    return path


def stream_clip(model: Model, clip: ClipRef) -> list[Prediction]:
    """Every prediction of the app's lossless replay of the clip (`sta-hands run CLIP --headless`)."""
    predictions: list[Prediction] = []
    summary = run_headless(open_clip(clip), model, predictions.append)  # with its video wherever it is
    if summary.error is not None:
        raise DataError(clip.stem, f"the replay stopped: {summary.error}")
    return predictions


def streaming_rows(clip: ClipRef, predictions: Sequence[Prediction]) -> list[dict[str, Any]]:
    """One row per full window (status "ok") for `models.evaluate.streaming_summary`."""
    rows = []
    for prediction in predictions:
        if prediction.status != "ok":
            continue
        with_rgb = "rgb" in prediction.streams
        rows.append(
            {
                "label": clip.label,
                "fused": int(np.argmax(prediction.probabilities)),
                "pose": int(np.argmax(prediction.pose_probabilities)),
                "rgb": int(np.argmax(prediction.rgb_probabilities)) if with_rgb else None,
                "pose_only": not with_rgb,
            }
        )
    return rows


def evaluate_exported(
    folder: str | Path,
    dataset: Dataset,
    *,
    split: str | None = None,
    views: int = VIEWS,
    seed: int = SEED,
    provider: str | None = None,
    progress: bool = True,
    streaming: bool = False,
) -> dict[str, Any]:
    """The report of the exported model in `folder` on the test side of `split` (every clip when None);
    with `streaming`, also on every full window of the app's live replay of each clip."""
    model = open_model(folder, provider=provider)
    if tuple(model.info.class_names) != dataset.class_names:
        raise DataError(
            Path(folder),
            f"the model knows {len(model.info.class_names)} classes that differ from the data's "
            f"{len(dataset.class_names)}",
        )
    clips = dataset.split(split, "test")
    if not clips:
        raise DataError(dataset.root, f"no test clips on the {split} split")
    outcomes = [
        evaluate_clip(model, clip, views, seed)
        for clip in tqdm(clips, desc="evaluate", unit="clip", disable=not progress)
    ]
    extra = {}
    if streaming:
        rows, short = [], 0
        for clip in tqdm(clips, desc="evaluate streaming", unit="clip", disable=not progress):
            clip_rows = streaming_rows(clip, stream_clip(model, clip))
            rows += clip_rows
            short += not clip_rows
        extra["streaming"] = streaming_summary(rows, len(clips) - short, short, model.info.window_seconds)
    return build_report(
        outcomes,
        dataset.class_names,
        model=str(folder),
        model_kind="exported",
        provider=model.provider,
        data=str(dataset.root),
        split=split,
        views=views,
        seed=seed,
        **extra,
    )
