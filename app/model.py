"""What a model is to the app: the one interface every kind of model folder gives the recognizer, `replay`,
`run --json`, evaluation and the GUI, so none of them asks which kind it holds.

Three kinds exist (`contract.pose_model_contract.folder_kind`): the paper's two-stream model
(`app.runtime.OnnxModel`: hand crops and pose, spatial and temporal attention), a pretrained pose-only
model (`app.pose_model.PoseModel`: joints alone, class relevance), and the two together, a plugin model
(`app.plugin_model.PluginModel`: STA-Hands with the pretrained pose model in place of Deep GRU, logits
summed, the RGB stream's attention). `app.model_choice.open_model` opens any of them from its folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from sta_hands.app.prediction import Prediction, Status
from sta_hands.contract.body_slots import BodyIds
from sta_hands.contract.frame import Frame
from sta_hands.contract.inputs import HandFrame


class ModelFacts(Protocol):
    """What every model's metadata says (`ModelInfo`, `PoseModelInfo`)."""

    @property
    def class_names(self) -> tuple[str, ...]: ...

    @property
    def window_length(self) -> int: ...

    @property
    def window_seconds(self) -> float: ...

    @property
    def model_version(self) -> str: ...

    @property
    def trained_on(self) -> str: ...


class WindowClassifier(Protocol):
    """Classifies the windows of one stream, in time order (it may keep caches between them)."""

    def __call__(
        self, frames: Sequence[Frame | HandFrame], body_ids: BodyIds | None = None, status: Status = "ok"
    ) -> Prediction: ...


class Model(Protocol):
    """A model folder opened for the app.

    - `kind`: `contract.pose_model_contract`'s TWO_STREAM_KIND, POSE_MODEL_KIND or PLUGIN_KIND;
    - `streams`: the streams it runs ("pose", "rgb"); `explanation`: what its explanation is, the paper's
      "attention" or a pose model's class "relevance";
    - `prediction_stride`: grid steps of its window between two live predictions (the prediction rate);
    - `describe()`: one line saying what it is and what it knows, for the title, the status bar and `info`;
    - `window_classifier(still_threshold)`: a fresh classifier for one stream of windows.
    """

    folder: Path
    provider: str

    @property
    def info(self) -> ModelFacts: ...

    @property
    def kind(self) -> str: ...

    @property
    def streams(self) -> tuple[str, ...]: ...

    @property
    def explanation(self) -> str: ...

    @property
    def prediction_stride(self) -> int: ...

    @property
    def name(self) -> str: ...

    def describe(self) -> str: ...

    def window_classifier(self, still_threshold: float = 0.0) -> WindowClassifier: ...


def summary_line(title: str, classes: int, streams: Sequence[str], explanation: str) -> str:
    """A model's `describe()` line: "Shift-GCN NTU RGB+D 120 (120 actions, pose only, relevance)"."""
    what = "pose only" if tuple(streams) == ("pose",) else " + ".join(streams)
    return f"{title} ({classes} actions, {what}, {explanation})"
