"""The ONNX contract of a pose-only model folder: a pretrained skeleton network (Shift-GCN, design.md
"Model kinds and what explains them") that names actions from the 3D joints alone.

A pose model folder holds one file, `pose_model.onnx`:

- input `joints`: B x 3 x T x 25 x 2 float32, camera-space metres, Kinect v2 / NTU joint order, the
  model's two people in the app's slot order (person 1, person 2); a missing person, or a frame a
  person is missing from, is zeros. Raw joints: the model's own input pipeline (centring on the first
  person's SpineMid, the two rotations of the Shift-GCN authors' preprocessing) is inside the graph, so
  the file alone defines it. B and T are dynamic; the app feeds `window_length` frames;
- outputs:
  - `logits`: B x K;
  - `class_activation`: B x K x T' x 25 x 2, the classifier's weights applied to the last layer's
    features at each (time step, joint, person) before pooling (T' = the last layer's time steps,
    about T / 4). Its mean over time, joints and people plus the classifier's bias is `logits`;
  - `pooled_features`: B x F, the features the classifier reads (mean over time, joints, people),
    for a small head taught on top of the frozen network.
- `metadata_props`: `PoseModelInfo`, every value a string.

A folder's kind is read from its files (`folder_kind`): `pose_model.onnx` makes a pose model, a
`head.onnx` the paper's two-stream model (`contract.onnx_contract`), and both together a plugin model
(PLUGIN_KIND, the paper's "plugin to any powerful pose stream"): the two-stream files, of which the
app reads the STA-Hands stream's `rgb_logits`, beside a pretrained `pose_model.onnx` in place of Deep
GRU; the logits of the two are summed on the head's classes (each of which the pose model must know by
name), by `app.plugin_model`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sta_hands.contract.onnx_contract import (
    FORMAT_KEY,
    FORMAT_VERSION,
    HEAD_FILE,
    ModelError,
    refuse_bad_entries,
    window_checks,
)

POSE_MODEL_FILE = "pose_model.onnx"
POSE_MODEL_INPUT = "joints"
POSE_MODEL_OUTPUTS: tuple[str, ...] = ("logits", "class_activation", "pooled_features")
MODEL_KIND_KEY = "model_kind"
POSE_MODEL_KIND = "pose-gcn"
TWO_STREAM_KIND = "two-stream"
PLUGIN_KIND = "plugin"  # two-stream files with a pretrained pose model in place of Deep GRU
JOINTS = 25
PEOPLE = 2


def folder_kind(folder: Path) -> str:
    """`POSE_MODEL_KIND`, `TWO_STREAM_KIND` or `PLUGIN_KIND` (both), from the files in the folder; neither
    is a `ModelError`. A file that exists but cannot be read (a folder in its place, say) still decides
    the kind, so the kind's loader names what is wrong with it."""
    if (folder / POSE_MODEL_FILE).exists():
        return PLUGIN_KIND if (folder / HEAD_FILE).exists() else POSE_MODEL_KIND
    if (folder / HEAD_FILE).exists():
        return TWO_STREAM_KIND
    raise ModelError(f"{folder}: neither {POSE_MODEL_FILE} nor {HEAD_FILE}; is this a model folder?")


@dataclass(frozen=True)
class PoseModelInfo:
    """What a pose model's file says about itself.

    - `window_length`: frames the app feeds per prediction; `window_seconds`: the time they cover
      (the live window resamples the last `window_seconds` of bodies to `window_length` frames).
    - `input_pipeline`: the version of the in-graph preprocessing, e.g. "shift-gcn-ntu/1".
    - `reported_accuracy`: the authors' figure and its benchmark, as text ("80.9 top-1, NTU RGB+D 120
      cross-subject").
    - `licence`, `source`: the weights' licence and where they came from (repository, commit, file).
    """

    class_names: tuple[str, ...]
    window_length: int
    window_seconds: float
    input_pipeline: str
    model_version: str
    trained_on: str
    reported_accuracy: str
    licence: str
    source: str

    def to_metadata(self) -> dict[str, str]:
        return {
            FORMAT_KEY: FORMAT_VERSION,
            MODEL_KIND_KEY: POSE_MODEL_KIND,
            "class_names": json.dumps(list(self.class_names)),
            "window_length": str(self.window_length),
            "window_seconds": repr(float(self.window_seconds)),
            "input_pipeline": self.input_pipeline,
            "model_version": self.model_version,
            "trained_on": self.trained_on,
            "reported_accuracy": self.reported_accuracy,
            "licence": self.licence,
            "source": self.source,
        }

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str], path: Path) -> PoseModelInfo:
        """Read back what `to_metadata` wrote; anything foreign or out of range is a `ModelError` naming
        the file and the entry."""
        if metadata.get(FORMAT_KEY) != FORMAT_VERSION or metadata.get(MODEL_KIND_KEY) != POSE_MODEL_KIND:
            raise ModelError(
                f"{path}: not a sta-hands pose model (expected {FORMAT_KEY}={FORMAT_VERSION} and "
                f"{MODEL_KIND_KEY}={POSE_MODEL_KIND} in its metadata)"
            )
        try:
            info = cls(
                class_names=tuple(json.loads(metadata["class_names"])),
                window_length=int(metadata["window_length"]),
                window_seconds=float(metadata["window_seconds"]),
                input_pipeline=metadata["input_pipeline"],
                model_version=metadata["model_version"],
                trained_on=metadata["trained_on"],
                reported_accuracy=metadata.get("reported_accuracy", ""),
                licence=metadata.get("licence", ""),
                source=metadata.get("source", ""),
            )
        except (KeyError, ValueError, TypeError) as error:
            raise ModelError(f"{path}: bad or missing metadata entry {error}") from error
        checks = window_checks(info.class_names, info.window_length, info.window_seconds)
        refuse_bad_entries(info, path, checks)
        return info

    def axis_values(self) -> dict[str, int]:
        """The metadata entries that fixed axes of the graph must equal (`check_graph`: the logits')."""
        return {"class_names": len(self.class_names)}
