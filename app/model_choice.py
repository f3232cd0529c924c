"""Which model runs: a folder opened as its kind (`open_model`), the default for a source when the user names
none (`default_model_folder_for`, the one place that decides), and the models there are to choose from
(`bundled_models`, `taught_models`).

The default: the bundled demo model for the demo and synthetic clips (it was trained on synthetic
figures and knows nothing else), the bundled pretrained pose model (Shift-GCN, NTU RGB+D 120) for every
real source (a Kinect, a webcam, an NTU file, a `.xef`, a recording, any video).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from sta_hands.app.model import Model
from sta_hands.app.plugin_model import PluginModel
from sta_hands.app.pose_model import PoseModel
from sta_hands.app.runtime import OnnxModel, default_model_folder
from sta_hands.contract.onnx_contract import ModelError
from sta_hands.contract.pose_model_contract import PLUGIN_KIND, POSE_MODEL_KIND, TWO_STREAM_KIND, folder_kind
from sta_hands.contract.reader import Reader

log = logging.getLogger(__name__)

REAL_SOURCE_MODEL = "shiftgcn-ntu120-xsub"  # the bundled pose model real sources run by default
OPENERS: dict[str, Callable[..., Model]] = {
    TWO_STREAM_KIND: OnnxModel,
    POSE_MODEL_KIND: PoseModel,
    PLUGIN_KIND: PluginModel,
}


def open_model(folder: str | Path, provider: str | None = None) -> Model:
    """The model in `folder`, of the kind its files say (`contract.pose_model_contract.folder_kind`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"{folder}: model folder not found")
    return OPENERS[folder_kind(folder)](folder, provider=provider)


def bundled_folder(name: str) -> Path:
    """A model folder shipped in the `models` package, found through importlib.resources without torch."""
    return Path(str(resources.files("sta_hands.models") / name))


def synthetic_source(reader: Reader) -> bool:
    """Whether `reader` plays a synthetic clip: the demo clip or one `synth` wrote (a recording whose device
    is "synthetic"), or the `synthetic` source."""
    return reader.nature.synthetic


def default_model_folder_for(reader: Reader | None) -> Path:
    """The model a source runs when the user names none (module doc); the demo model where the bundled
    pose model is missing (a warning says so), or before any source is open."""
    if reader is None or synthetic_source(reader):
        return default_model_folder()
    folder = bundled_folder(REAL_SOURCE_MODEL)
    if not folder.is_dir():
        log.warning("the bundled pose model is missing from %s; the demo model runs instead", folder)
        return default_model_folder()
    return folder


def model_folders(parent: Path) -> list[Path]:
    """The model folders directly under `parent` (any kind), by name."""
    if not parent.is_dir():
        return []
    found = []
    for folder in sorted(parent.iterdir(), key=lambda path: path.name.casefold()):
        try:
            folder_kind(folder)
        except (ModelError, OSError):
            continue
        found.append(folder)
    return found


def bundled_models() -> list[Path]:
    """The model folders shipped with the app (the demo, the pretrained pose models)."""
    return model_folders(Path(str(resources.files("sta_hands.models"))))


def default_model_line(spec: str | Path, pose: str = "auto", mirror: str = "auto") -> str:
    """What `sta-hands info` says of the model a source runs with no `--model`: its `describe()` line."""
    from sta_hands.contract.errors import UserError
    from sta_hands.recordings.sources import open_reader

    try:
        with open_reader(spec, allow_empty=True, pose=pose, mirror=mirror) as reader:
            folder = default_model_folder_for(reader)
        return f"{open_model(folder).describe()}, the default for this source"
    except UserError as error:
        return f"none ({error})"
