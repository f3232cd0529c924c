"""Teaching on top of a frozen pretrained pose model (issue 21 part 7): the bundled Shift-GCN's
`pooled_features` (`contract.pose_model_contract`) of the examples' live windows, a small linear head
trained on them, written back as the GCN's own classifier (`write_pose_model`): the taught folder is then a
plugin model (`app.plugin_model`), STA-Hands taught as before beside the frozen GCN with its new head.

- Features: every frame's joints of an example (no image decoded), the two main bodies chosen over the
  clip, the GCN's live windows (`window_length` frames over `window_seconds`) at PREDICTIONS_PER_SECOND, or
  one window of the whole clip when it is shorter; an action that is not hand-specific adds its mirrored
  windows (`teach.augment.mirror_pose`). Through ONNX Runtime, as the app runs the GCN.
- The head: multinomial logistic regression on standardised features (the standardisation folded into the
  weights, so it is a plain `W x + b` on `pooled_features`), full batch, Adam, its weight decay chosen by
  leaving one example out at a time (`chosen_weight_decay`: the lowest held-out cross-entropy, so its
  logits are no surer than they can be beside the RGB stream's).
- The classifier's weights are graph initializers (`classifier.weight` K x F, `classifier.bias` K): they
  are replaced with the taught ones, so `logits` and `class_activation` (the app's relevance) both read
  them; the metadata gets the taught class names. No PyTorch in the graph surgery.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnx
from onnx import numpy_helper

from sta_hands.app.model_choice import bundled_folder
from sta_hands.app.pose_model import PREDICTIONS_PER_SECOND, PoseModel, joints_input
from sta_hands.contract.body_slots import NUM_BODIES, select_main_bodies
from sta_hands.contract.inputs import time_window_indices, window_grid_step, window_inputs
from sta_hands.contract.pose_model_contract import POSE_MODEL_FILE, PoseModelInfo
from sta_hands.contract.reader import read
from sta_hands.models.data import open_clip
from sta_hands.models.windows import live_windows, time_window
from sta_hands.teach.augment import mirror_pose
from sta_hands.teach.example_set import Example
from sta_hands.teach.features import ExampleFeatures

GCN_MODEL = "shiftgcn-ntu120-xsub"  # its features: trained on 120 actions, the widest of the bundled
WEIGHT, BIAS = "classifier.weight", "classifier.bias"  # the GCN's classifier in the graph
COPIED = ("LICENSE", "NOTICE")  # the weights' licence travels with the taught model
BATCH = 16  # windows per GCN call

if TYPE_CHECKING:
    from sta_hands.teach.train import TeachOutcome


def bundled_gcn() -> Path | None:
    """The bundled GCN teaching builds on, None where it is missing."""
    folder = bundled_folder(GCN_MODEL)
    return folder if (folder / POSE_MODEL_FILE).is_file() else None


@dataclass(frozen=True)
class ExamplePose:
    """Every frame's joints of an example: timestamps T, pose T x 150 (`contract.inputs.pose_array`)."""

    timestamps: np.ndarray
    pose: np.ndarray


def example_pose(example: Example) -> ExamplePose:
    """The example's joints at every frame, no image decoded, its two main bodies chosen clip-wide."""
    with open_clip(example.clip) as reader:
        frames = list(read(reader, 0, np.zeros(reader.num_frames or 0, dtype=bool)))
    body_ids = select_main_bodies([frame.bodies for frame in frames], count=NUM_BODIES)
    inputs = window_inputs(frames, body_ids)
    return ExamplePose(np.array([f.timestamp for f in frames], dtype=np.float64), inputs.pose)


def gcn_windows(timestamps: np.ndarray, info: PoseModelInfo) -> list[np.ndarray]:
    """Frame indices of the GCN's live windows on a clip at its prediction rate (one whole-clip window
    when the clip is shorter than a window)."""
    step = window_grid_step(info.window_seconds, info.window_length)
    stride = max(1, round(1.0 / (PREDICTIONS_PER_SECOND * step)))
    return live_windows(timestamps, info.window_seconds, info.window_length, stride) or [
        time_window(timestamps, info.window_seconds, info.window_length)
    ]


def pooled_features(gcn: PoseModel, poses: Sequence[np.ndarray]) -> np.ndarray:
    """N x F: the GCN's pooled features of N windows of T x 150 joints (equal T), in batches."""
    parts = []
    for start in range(0, len(poses), BATCH):
        joints = np.concatenate([joints_input(pose) for pose in poses[start : start + BATCH]])
        parts.append(gcn.run(joints)["pooled_features"])
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def example_windows(
    gcn: PoseModel, pose: ExamplePose, mirrored: bool, windows: Sequence[np.ndarray] | None = None
) -> np.ndarray:
    """N x F features of an example's GCN windows (`gcn_windows`, or `windows`), its mirrored ones after."""
    chosen = windows if windows is not None else gcn_windows(pose.timestamps, gcn.info)
    picked = [pose.pose[w] for w in chosen]
    if mirrored:
        picked += [mirror_pose(window) for window in picked]
    return pooled_features(gcn, picked)


@dataclass(frozen=True)
class LinearHead:
    """logits = features @ weight.T + bias, on the GCN's pooled features."""

    weight: np.ndarray  # K x F float32
    bias: np.ndarray  # K float32

    def logits(self, features: np.ndarray) -> np.ndarray:
        return features @ self.weight.T + self.bias


WEIGHT_DECAYS = (1e-3, 1e-2, 1e-1, 1.0)  # the head's L2 penalties to choose from (`chosen_weight_decay`)
DEFAULT_WEIGHT_DECAY = 1e-2  # when no example can be left out


def fit_head(
    features: np.ndarray, labels: np.ndarray, classes: int, *, steps: int = 300,
    weight_decay: float = DEFAULT_WEIGHT_DECAY, seed: int = 0,
) -> LinearHead:  # fmt: skip
    """Multinomial logistic regression on standardised features (cross-entropy + `weight_decay` / 2 x the
    squared weights, full batch, Adam at 0.01), folded back to raw features. Plain numpy: a product of a
    few hundred windows by 256 features, microseconds a step (PyTorch's per-step overhead made it seconds
    a fit on the loaded 2 cores, and the weight decay is chosen over dozens of fits)."""
    mean, std = features.mean(axis=0), features.std(axis=0) + 1e-6
    x = ((features - mean) / std).astype(np.float64)
    target = np.eye(classes)[labels]
    rng = np.random.default_rng(seed)
    params = [rng.normal(0.0, 0.01, (classes, x.shape[1])), np.zeros(classes)]
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    for step in range(1, steps + 1):
        logits = x @ params[0].T + params[1]
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        error = (p / p.sum(axis=1, keepdims=True) - target) / len(x)
        grads = [error.T @ x + weight_decay * params[0], error.sum(axis=0)]
        for param, grad, (m, v) in zip(params, grads, moments, strict=True):  # Adam
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad**2
            param -= 0.01 * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    weight = params[0] / std
    bias = params[1] - weight @ mean
    return LinearHead(weight.astype(np.float32), bias.astype(np.float32))


def chosen_weight_decay(
    features: np.ndarray, labels: np.ndarray, groups: np.ndarray, classes: int, seed: int = 0
) -> float:
    """The weight decay of WEIGHT_DECAYS whose heads, each fit without one example (`groups`: the example
    of each window), give the lowest cross-entropy on that example's windows: the calibrated one, so the
    pose stream is not surer than it can be where the RGB stream must decide (two actions of one motion).
    Only examples whose action has another example are left out; DEFAULT_WEIGHT_DECAY when none has."""
    per_action = {label: len(set(groups[labels == label])) for label in set(labels.tolist())}
    left_out = [g for g in np.unique(groups) if per_action[int(labels[groups == g][0])] >= 2]
    if not left_out:
        return DEFAULT_WEIGHT_DECAY
    losses = []
    for decay in WEIGHT_DECAYS:
        total = 0.0
        for group in left_out:
            kept = groups != group
            head = fit_head(features[kept], labels[kept], classes, weight_decay=decay, seed=seed)
            logits = head.logits(features[~kept])
            shifted = logits - logits.max(axis=1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            total += -log_p[np.arange(len(logits)), labels[~kept]].mean()
        losses.append(total / len(left_out))
    return WEIGHT_DECAYS[int(np.argmin(losses))]


def write_pose_model(
    gcn_folder: Path, head: LinearHead, class_names: Sequence[str], trained_on: str, folder: Path
) -> Path:
    """The GCN of `gcn_folder` with `head` as its classifier, into `folder`/pose_model.onnx (with the
    weights' LICENSE and NOTICE)."""
    model = onnx.load(str(gcn_folder / POSE_MODEL_FILE))
    found = {init.name: init for init in model.graph.initializer}
    old = numpy_helper.to_array(found[WEIGHT])
    if head.weight.shape[1] != old.shape[1] or not len(head.bias) == len(head.weight) == len(class_names):
        shape = head.weight.shape
        raise ValueError(f"a head of {shape} for a classifier of {old.shape}, with {len(class_names)} names")
    found[WEIGHT].CopyFrom(numpy_helper.from_array(head.weight.astype(np.float32), WEIGHT))
    found[BIAS].CopyFrom(numpy_helper.from_array(head.bias.astype(np.float32), BIAS))
    for output in model.graph.output:  # logits B x K, class_activation B x K x T' x 25 x 2
        if output.name in ("logits", "class_activation"):
            output.type.tensor_type.shape.dim[1].dim_value = len(class_names)
    base = PoseModel(gcn_folder).info
    info = PoseModelInfo(
        class_names=tuple(class_names),
        window_length=base.window_length,
        window_seconds=base.window_seconds,
        input_pipeline=base.input_pipeline,
        model_version=f"taught head on {base.model_version}",
        trained_on=trained_on,
        reported_accuracy="",
        licence=base.licence,
        source=f"{base.source}; classifier taught by sta-hands teach",
    )
    del model.metadata_props[:]
    for key, value in info.to_metadata().items():
        model.metadata_props.add(key=key, value=value)
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / POSE_MODEL_FILE))
    for name in COPIED:
        if (gcn_folder / name).is_file():
            shutil.copyfile(gcn_folder / name, folder / name)
    return folder / POSE_MODEL_FILE


@dataclass(frozen=True)
class GcnOutcome:
    """The taught head on the frozen GCN, and the taught model's fused accuracy on the held-out examples."""

    gcn_folder: Path
    head: LinearHead
    validation_accuracy: float | None  # RGB stream + GCN head, over the held-out examples' live windows
    note: str


def teach_gcn_head(
    data: Sequence[ExampleFeatures], class_names: Sequence[str], mirrored: frozenset[str],
    outcome: TeachOutcome, gcn_folder: Path, seed: int = 0,
) -> GcnOutcome:  # fmt: skip
    """A linear head on the frozen GCN's features of the examples that `outcome` trained on (its held-out
    ones left out), and the fused accuracy on those held out, window by window as the app sums them."""
    gcn = PoseModel(gcn_folder, provider="cpu", threads=1)
    poses = [example_pose(item.example) for item in data]
    held = set(outcome.held_out)
    features, labels, groups = [], [], []
    for position, (item, pose) in enumerate(zip(data, poses, strict=True)):
        if item.example.name not in held:
            found = example_windows(gcn, pose, item.example.action in mirrored)
            features.append(found)
            labels += [item.example.clip.label] * len(found)
            groups += [position] * len(found)
    x, y = np.concatenate(features), np.array(labels)
    decay = chosen_weight_decay(x, y, np.array(groups), len(class_names), seed)
    head = fit_head(x, y, len(class_names), weight_decay=decay, seed=seed)
    note = (
        f"pose stream: {gcn.info.model_version} (frozen), a linear head taught on {len(labels)} windows of "
        f"{len(features)} examples (weight decay {decay:g})"
    )
    checked = [(item, pose) for item, pose in zip(data, poses, strict=True) if item.example.name in held]
    accuracy = _fused_accuracy(checked, outcome, gcn, head) if checked else None
    return GcnOutcome(gcn_folder, head, accuracy, note)


def _fused_accuracy(
    checked: Sequence[tuple[ExampleFeatures, ExamplePose]],
    outcome: TeachOutcome,
    gcn: PoseModel,
    head: LinearHead,
) -> float:
    """Over each held-out example's live windows: the RGB stream's logits plus the head's on the GCN
    window that ends at the same frame."""
    import torch

    from sta_hands.teach.train import validation_windows, window_of

    model, info, right, total = outcome.model.eval(), gcn.info, 0, 0
    for item, pose in checked:
        for frames in validation_windows(item, outcome.window_seconds, model.config.window):
            arrays = window_of(item, frames, False)
            with torch.no_grad():
                rgb = model(*(torch.from_numpy(np.ascontiguousarray(a))[None] for a in arrays)).rgb_logits[0]
            end = item.clip.timestamps[frames[-1]]
            upto = pose.timestamps[pose.timestamps <= end + 1e-6]
            window = time_window_indices(upto, info.window_seconds, info.window_length)
            fused = rgb.numpy() + head.logits(pooled_features(gcn, [pose.pose[window]]))[0]
            right += int(np.argmax(fused)) == item.example.clip.label
            total += 1
    return right / max(total, 1)
