"""Evaluation: accuracy per stream and fused, per class, a confusion matrix, and the attention score.

Every test clip is seen through 5 sub-sequences of 20 frames (paper, experiments: one frame per
equal segment, drawn from a fixed seed: `models.data.evaluation_windows`), and each stream's logits
are averaged over them. The report (JSON) holds at least:
- `clips`: how many clips were evaluated;
- `accuracy`: {`fused`, `pose`, `rgb`}: top-1 accuracy of each (null for a stream the model lacks);
- `per_class`: {class name: {`clips`, `accuracy`}} of the fused prediction;
- `confusion`: rows the true class, columns the predicted one (fused);
- `attention_score`, `attention_frames`, `attention_baselines`, `attention_same_slot` and `attention`
  (synthetic clips, whose sidecars say which hands act; null otherwise): of the sampled frames with an
  acting hand, the share where the highest spatial attention sits on one, beside rules with no
  parameters on exactly the same frames, over every frame, per class, and apart for frames with one and
  with two or more acting hands (`models.attention_score`);
- `faithfulness` (a model with a spatial attention over hands, or an exported pose model with its
  relevance over joints; null otherwise): per window, how much the RGB stream's probability of its class
  drops when the most- and when the least-attended present hand is removed, or the pose model's when
  its most relevant joints and when as many random ones are held still (`models.faithfulness`);
- with `streaming`, `streaming`: what the app sees live (design.md, "Windows in time"): every full
  live window (status "ok") of every test clip classified on its own, {`accuracy`: {`fused`, `pose`,
  `rgb`} per window, `windows`, `clips` (with at least one full window), `short_clips` (shorter than
  `window_seconds`: only a partial window, not counted), `pose_only_windows` (no hand image: the RGB
  stream not counted), `window_seconds`}.

This module is torch-free at import: `evaluate_checkpoint` (a checkpoint on cached features) imports
torch when called, and `export.evaluate_onnx` builds the same report for an exported model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from sta_hands.models.attention_score import (
    AttentionFrames,
    attention_frames,
    attention_report,
    attention_text,
)
from sta_hands.models.config import BackboneSpec
from sta_hands.models.data import DataError, Dataset, evaluation_windows
from sta_hands.models.faithfulness import FaithfulnessTally, faithfulness_report, hand_removal_drops
from sta_hands.models.windows import live_windows

VIEWS = 5  # paper, experiments: 5 sub-sequences per test clip, logits averaged
SEED = 0
STREAMS = ("fused", "pose", "rgb")
REPORT_FILE, CONFUSION_FILE = "report.json", "confusion.png"


@dataclass
class ClipOutcome:
    """One clip's averaged logits per stream, its attention frames and its faithfulness drops."""

    name: str
    label: int
    logits: dict[str, np.ndarray]  # stream ("fused", "pose", "rgb") -> C, averaged over the views
    attention: AttentionFrames | None = None  # sampled frames with an acting hand (`models.attention_score`)
    faithfulness: FaithfulnessTally | None = None  # per window (`models.faithfulness`)
    extra: dict[str, Any] = field(default_factory=dict)

    def predicted(self, stream: str) -> int | None:
        logits = self.logits.get(stream)
        return None if logits is None else int(np.argmax(logits))


ATTENTION_VIEWS = ("spatial_attention", "active_hands", "hand_mask", "pose")


def outcome_from_views(
    name: str, label: int, views: Mapping[str, np.ndarray], faithfulness: FaithfulnessTally | None = None
) -> ClipOutcome:
    """Average the per-view outputs of a model ("logits", "pose_logits", "rgb_logits", attention...)."""
    logits = {"fused": views["logits"].mean(axis=0)}
    for stream in ("pose", "rgb"):
        if f"{stream}_logits" in views:
            logits[stream] = views[f"{stream}_logits"].mean(axis=0)
    attention = None
    if all(key in views for key in ATTENTION_VIEWS):
        attention = attention_frames(*(views[key] for key in ATTENTION_VIEWS))
    return ClipOutcome(name, label, logits, attention, faithfulness)


# ------------------------------------------------------------------------------------------ the report


def build_report(
    outcomes: Sequence[ClipOutcome], class_names: Sequence[str], **context: Any
) -> dict[str, Any]:
    """The JSON-able report of a list of clip outcomes (see the module docstring); `context` is copied in."""
    if not outcomes:
        raise ValueError("nothing to report: no clips were evaluated")
    labels = np.array([o.label for o in outcomes])
    accuracy: dict[str, float | None] = {}
    for stream in STREAMS:
        predicted = [o.predicted(stream) for o in outcomes]
        valid = all(p is not None for p in predicted)
        accuracy[stream] = float(np.mean(np.array(predicted) == labels)) if valid else None
    fused = np.array([o.predicted("fused") for o in outcomes])
    confusion = np.zeros((len(class_names), len(class_names)), dtype=np.int64)
    np.add.at(confusion, (labels, fused), 1)
    per_class = {
        name: {
            "clips": int(confusion[c].sum()),
            "accuracy": float(confusion[c, c] / confusion[c].sum()) if confusion[c].sum() else None,
        }
        for c, name in enumerate(class_names)
    }
    return {
        **context,
        "clips": len(outcomes),
        "accuracy": accuracy,
        "per_class": per_class,
        **attention_report([o.attention for o in outcomes], labels.tolist(), class_names),
        "faithfulness": faithfulness_report(
            FaithfulnessTally.join([o.faithfulness for o in outcomes if o.faithfulness is not None])
        ),
        "class_names": list(class_names),
        "confusion": confusion.tolist(),
        "predictions": [
            {"clip": o.name, "label": o.label, **{s: o.predicted(s) for s in STREAMS if s in o.logits}}
            for o in outcomes
        ],
    }


def streaming_summary(
    rows: Sequence[Mapping[str, int | None]], clips: int, short_clips: int, window_seconds: float
) -> dict[str, Any]:
    """`report["streaming"]` from one row per full live window: its "label", the class "fused", "pose"
    and "rgb" predicted (None for a stream that did not run on it), "pose_only" (no hand image)."""
    accuracy: dict[str, float | None] = {}
    for stream in STREAMS:
        hits = [row[stream] == row["label"] for row in rows if row.get(stream) is not None]
        accuracy[stream] = float(np.mean(hits)) if hits else None
    return {
        "accuracy": accuracy,
        "windows": len(rows),
        "clips": clips,
        "short_clips": short_clips,
        "pose_only_windows": sum(1 for row in rows if row.get("pose_only")),
        "window_seconds": window_seconds,
    }


def summary_text(report: Mapping[str, Any]) -> str:
    acc = report["accuracy"]
    parts = [f"{report['clips']} clips"]
    parts += [f"{s} {acc[s]:.3f}" for s in STREAMS if acc.get(s) is not None]
    attention = attention_text(report)
    if attention is not None:
        parts.append(attention)
    faithful = report.get("faithfulness")
    if faithful:
        removed = (
            f"holding the {faithful['joints_held']} most relevant joints still (against as many random ones)"
            if faithful["removed"] == "joints"
            else f"removing the most-attended {faithful['removed'][:-1]}"
        )
        parts.append(
            f"faithfulness: {removed} drops the {faithful['stream']} probability more in "
            f"{faithful['attended_drop_larger']:.3f} of {faithful['windows']} windows"
            f" (mean drop {faithful['mean_drop_attended']:.3f} vs {faithful['mean_drop_least_attended']:.3f})"
        )
    live = report.get("streaming")
    if live is not None:
        scores = [f"{s} {live['accuracy'][s]:.3f}" for s in STREAMS if live["accuracy"].get(s) is not None]
        parts.append(
            f"streaming {' '.join(scores) or 'n/a'} ({live['windows']} windows of {live['clips']} clips)"
        )
    return ", ".join(parts)


def write_report(
    report: Mapping[str, Any], out: str | Path | None = None, json_path: str | Path | None = None
) -> None:
    """`out`/report.json and `out`/confusion.png, and/or the JSON at `json_path`."""
    text = json.dumps(report, indent=2)
    if json_path is not None:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(text + "\n", encoding="utf-8")
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / REPORT_FILE).write_text(text + "\n", encoding="utf-8")
        title = f"fused accuracy {report['accuracy']['fused']:.3f} on {report['clips']} clips"
        image = confusion_image(np.array(report["confusion"]), report["class_names"], title)
        if not cv2.imwrite(str(folder / CONFUSION_FILE), image):
            raise DataError(folder / CONFUSION_FILE, "cannot write the PNG")


def confusion_image(matrix: np.ndarray, class_names: Sequence[str], title: str = "") -> np.ndarray:
    """A BGR image of the row-normalised confusion matrix: true classes down, predictions across."""
    count = len(class_names)
    cell = int(np.clip(720 // max(count, 1), 12, 48))
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, max(0.3, min(0.5, cell / 60))
    label_width = 12 + max(cv2.getTextSize(n[:32], font, scale, 1)[0][0] for n in class_names)
    top, left = 60, label_width
    image = np.full((top + count * cell + 20, left + count * cell + 20, 3), 255, dtype=np.uint8)
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros(matrix.shape, dtype=np.float64), where=rows > 0)
    for r in range(count):
        y = top + r * cell
        cv2.putText(
            image, class_names[r][:32], (6, y + cell // 2 + 4), font, scale, (0, 0, 0), 1, cv2.LINE_AA
        )
        for c in range(count):
            x = left + c * cell
            shade = int(255 * (1.0 - share[r, c]))
            colour = (255, shade, shade) if r != c else (shade, 255, shade)  # blue off, green on the diagonal
            cv2.rectangle(image, (x, y), (x + cell - 1, y + cell - 1), colour, -1)
            cv2.rectangle(image, (x, y), (x + cell - 1, y + cell - 1), (200, 200, 200), 1)
            if matrix[r, c] and cell >= 20:
                ink = (255, 255, 255) if share[r, c] > 0.6 else (0, 0, 0)
                cv2.putText(
                    image,
                    str(int(matrix[r, c])),
                    (x + 3, y + cell // 2 + 4),
                    font,
                    scale * 0.9,
                    ink,
                    1,
                    cv2.LINE_AA,
                )
    for c in range(count):
        cv2.putText(
            image, str(c), (left + c * cell + 2, top - 6), font, scale * 0.8, (0, 0, 0), 1, cv2.LINE_AA
        )
    cv2.putText(image, title, (6, 22), font, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(image, "predicted class index ->", (left, 42), font, 0.4, (80, 80, 80), 1, cv2.LINE_AA)
    return image


# ---------------------------------------------------------------------------------- a checkpoint


def evaluate_checkpoint(
    path: str | Path,
    dataset: Dataset,
    cache: str | Path,
    *,
    split: str | None = None,
    views: int = VIEWS,
    seed: int = SEED,
    device: str | None = None,
    streaming: bool = False,
) -> dict[str, Any]:
    """Evaluate a checkpoint (two-stream, pose or RGB stream) on the cached features of the test side
    of `split` (every clip when None); with `streaming`, also on every full live window.

    The live windows are those the app's recognizer classifies (`models.windows.live_windows` on the
    cached timestamps, the checkpoint's `window_seconds`); unlike the app, the two bodies are the
    clip's (as in training), not chosen per window, and the features are the cache's float16 ones."""
    from sta_hands.models import checkpoint
    from sta_hands.models.features.store import FeatureStore
    from sta_hands.models.inference import choose_device, predict, stream_of

    model, config, metadata = checkpoint.load(path)
    clips = dataset.split(split, "test")
    if not clips:
        raise DataError(dataset.root, f"no test clips on the {split} split")
    store = FeatureStore(cache, clips)
    clips = store.clips  # less those whose files could not be read when the features were made
    _check_compatible(Path(path), metadata, config.feature_dim, dataset, store.info.backbone.to_dict())
    torch_device = choose_device(device)
    model = model.to(torch_device)
    positions = list(range(len(clips)))
    windows = [
        evaluation_windows(c.name, store.num_frames(p), config.window, views, seed)
        for p, c in enumerate(clips)
    ]
    outputs = predict(model, store, positions, windows, torch_device)
    drops = _faithfulness_checkpoint(model, store, windows, outputs, torch_device)
    outcomes = [
        outcome_from_views(c.name, c.label, o, d) for c, o, d in zip(clips, outputs, drops, strict=True)
    ]
    extra = {}
    if streaming:
        extra["streaming"] = _streaming_checkpoint(
            Path(path), model, config.window, metadata, store, torch_device
        )
    return build_report(
        outcomes,
        dataset.class_names,
        model=str(path),
        model_kind=stream_of(model),
        data=str(dataset.root),
        features=str(cache),
        split=split,
        views=views,
        seed=seed,
        **extra,
    )


def _faithfulness_checkpoint(
    model: Any, store: Any, windows: Sequence[Sequence[np.ndarray]], outputs: Sequence[Mapping], device: Any
) -> list[FaithfulnessTally | None]:
    """Per clip of `store`, the faithfulness drops on its `windows` (None for a model without a spatial
    attention over hands)."""
    from sta_hands.models.inference import rgb_probabilities_of

    probabilities = rgb_probabilities_of(model, device)
    if probabilities is None:
        return [None] * len(windows)
    drops: list[FaithfulnessTally | None] = []
    for position, (clip_windows, output) in enumerate(zip(windows, outputs, strict=True)):
        arrays = store.batch([(position, frames) for frames in clip_windows])
        inputs = (arrays["features"], arrays["hand_mask"], arrays["pose"], output["spatial_attention"])
        drops.append(hand_removal_drops(probabilities, *inputs))
    return drops


def _streaming_checkpoint(
    path: Path, model: Any, length: int, metadata: Mapping[str, Any], store: Any, device: Any
) -> dict[str, Any]:
    """`report["streaming"]` of a checkpoint: every full live window of every clip in `store`."""
    from sta_hands.models.inference import predict

    seconds = metadata.get("window_seconds")
    if not isinstance(seconds, int | float) or not seconds > 0:
        raise DataError(path, "no window_seconds in its metadata: its live windows are unknown")
    windows = [live_windows(store.timestamps(p), seconds, length) for p in range(len(store))]
    positions = [p for p, found in enumerate(windows) if found]
    outputs = predict(model, store, positions, [windows[p] for p in positions], device)
    rows = []
    for p, output in zip(positions, outputs, strict=True):
        for w, with_rgb in enumerate(output["hand_mask"].any(axis=(1, 2))):
            pose = output.get("pose_logits")
            rgb = output.get("rgb_logits")
            fused = output["logits"][w] if with_rgb or pose is None else pose[w]
            rows.append(
                {
                    "label": store.clips[p].label,
                    "fused": int(np.argmax(fused)),
                    "pose": None if pose is None else int(np.argmax(pose[w])),
                    "rgb": None if rgb is None or not with_rgb else int(np.argmax(rgb[w])),
                    "pose_only": not with_rgb,
                }
            )
    return streaming_summary(rows, len(positions), len(store) - len(positions), float(seconds))


def _check_compatible(
    path: Path, metadata: Mapping[str, Any], feature_dim: int, dataset: Dataset, backbone: Mapping[str, Any]
) -> None:
    names = metadata.get("class_names")
    if names is not None and tuple(names) != dataset.class_names:
        raise DataError(
            path,
            f"the model knows {len(names)} classes that differ from the data's {len(dataset.class_names)}",
        )
    trained = metadata.get("backbone")
    if trained is not None and BackboneSpec.from_dict(trained) != BackboneSpec.from_dict(backbone):
        raise DataError(
            path,
            f"trained on {trained.get('name')} features at {trained.get('input_size')} px, "
            "but the cache holds "
            f"{backbone.get('name')} at {backbone.get('input_size')} px",
        )
    if feature_dim != backbone.get("feature_dim"):
        raise DataError(
            path,
            f"the model reads {feature_dim} features per hand, the cache has {backbone.get('feature_dim')}",
        )
