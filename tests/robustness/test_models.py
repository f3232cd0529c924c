"""Bad model files: a `ModelError` naming the file and what is wrong; checkpoints are never unpickled.

Complements tests/app/test_runtime.py (missing folder, truncated or non-ONNX head, metadata removed,
a pose or crops of the wrong shape), which this file does not repeat.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sta_hands.app.runtime import GLIMPSE_FILE, HEAD_FILE, ModelError, OnnxModel
from sta_hands.commands.cli import main
from tests.robustness.registry import Cases

MODELS = Cases(
    "Model files (exported ONNX)",
    "Each case damages one file of a copy of the tiny exported test model (`glimpse.onnx` + `head.onnx`) "
    "and loads it with `OnnxModel`, as `sta-hands run --model` and the GUI's Model menu do. Cases already "
    "in tests/app/test_runtime.py: a missing folder, a truncated or non-ONNX head.onnx, a head without "
    "metadata, crops or a pose of the wrong shape.",
)


def onnx_edit(name: str, edit: Callable) -> Callable[[Path], None]:
    """Rewrite `name` in the model folder through the onnx package: `edit(proto)`."""

    def apply(folder: Path) -> None:
        onnx = pytest.importorskip("onnx")
        path = folder / name
        proto = onnx.load(str(path))
        path.unlink()  # a symlink to the shared model: replace, never write through it
        edit(proto)
        onnx.save(proto, str(path))

    return apply


def set_metadata(key: str, value: str | None) -> Callable:
    def edit(proto) -> None:
        kept = [(p.key, p.value) for p in proto.metadata_props if p.key != key]
        del proto.metadata_props[:]
        for k, v in [*kept, *([(key, value)] if value is not None else [])]:
            entry = proto.metadata_props.add()
            entry.key, entry.value = k, v

    return edit


def both_files(key: str, value: str | None) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        for name in (GLIMPSE_FILE, HEAD_FILE):
            onnx_edit(name, set_metadata(key, value))(folder)

    return apply


def foreign_graph(keep_metadata: bool) -> Callable[[Path], None]:
    """head.onnx replaced by someone else's valid ONNX graph (y = x + x), with or without our metadata."""

    def apply(folder: Path) -> None:
        onnx = pytest.importorskip("onnx")
        from onnx import TensorProto, helper

        props = [(p.key, p.value) for p in onnx.load(str(folder / HEAD_FILE)).metadata_props]
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
        graph = helper.make_graph([helper.make_node("Add", ["x", "x"], ["y"])], "other", [x], [y])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        if keep_metadata:
            helper.set_model_props(model, dict(props))
        (folder / HEAD_FILE).unlink()
        onnx.save(model, str(folder / HEAD_FILE))

    return apply


def replace_file(name: str, make: Callable[[Path, bytes], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / name
        data = path.read_bytes()
        path.unlink()
        make(path, data)

    return apply


MODELS.add(
    "glimpse-missing",
    "a model folder without glimpse.onnx",
    "`ModelError`: `.../glimpse.onnx: model file not found`",
    (lambda folder: (folder / GLIMPSE_FILE).unlink(), GLIMPSE_FILE, "model file not found"),
)
MODELS.add(
    "glimpse-truncated",
    "glimpse.onnx cut to half its bytes",
    "`ModelError`: `.../glimpse.onnx: not a readable ONNX model (...)`",
    (
        replace_file(GLIMPSE_FILE, lambda p, d: p.write_bytes(d[: len(d) // 2])),
        GLIMPSE_FILE,
        "not a readable",
    ),
)
MODELS.add(
    "head-empty",
    "head.onnx of 0 bytes",
    "`ModelError`: `.../head.onnx: not a readable ONNX model (...)`",
    (replace_file(HEAD_FILE, lambda p, d: p.write_bytes(b"")), HEAD_FILE, "not a readable ONNX model"),
)
MODELS.add(
    "head-is-a-folder",
    "a folder named head.onnx",
    "`ModelError`: `.../head.onnx: model file not found (a folder)`",
    (replace_file(HEAD_FILE, lambda p, d: p.mkdir()), HEAD_FILE, "model file not found (a folder)"),
)
MODELS.add(
    "foreign-onnx",
    "head.onnx replaced by a valid ONNX model of another project (y = x + x), without our metadata",
    "`ModelError`: `.../head.onnx: no sta-hands metadata; is this a file from sta-hands export?`",
    (foreign_graph(False), HEAD_FILE, "no sta-hands metadata"),
)
MODELS.add(
    "foreign-onnx-with-our-metadata",
    "the same foreign graph carrying a copy of our metadata",
    "`ModelError`: `.../head.onnx: inputs ('x',) and outputs ('y',), expected ('features', ...) -> ...`",
    (foreign_graph(True), HEAD_FILE, "inputs ('x',) and outputs ('y',), expected"),
)
MODELS.add(
    "metadata-format-2",
    "metadata written by a future exporter (`sta_hands_format` 2)",
    "`ModelError`: `.../head.onnx: metadata format 2, this app reads format 1`",
    (both_files("sta_hands_format", "2"), HEAD_FILE, "metadata format 2, this app reads format 1"),
)
MODELS.add(
    "metadata-entry-missing",
    "metadata without `window_length`",
    "`ModelError`: `.../head.onnx: bad or missing metadata entry 'window_length'`",
    (both_files("window_length", None), HEAD_FILE, "bad or missing metadata entry 'window_length'"),
)
MODELS.add(
    "metadata-entry-malformed",
    "metadata whose `class_names` is not JSON",
    "`ModelError`: `.../head.onnx: bad or missing metadata entry ...`",
    (both_files("class_names", "[class 0, class 1"), HEAD_FILE, "bad or missing metadata entry"),
)
MODELS.add(
    "class-names-shorter-than-the-logits",
    "metadata listing 2 class names for a graph of 5 logits (both files edited alike)",
    "`ModelError`: `.../head.onnx: metadata entry 'class_names' says 2, the graph's logits has 5 ...` "
    "(was an `IndexError` at the first prediction)",
    (both_files("class_names", '["a", "b"]'), HEAD_FILE, "metadata entry 'class_names' says 2"),
)
MODELS.add(
    "window-seconds-zero",
    "metadata whose `window_seconds` is 0",
    "`ModelError`: `.../head.onnx: metadata entry 'window_seconds' is 0.0, expected a finite number of "
    "seconds above 0` (was `cannot convert float NaN to integer` in the live window)",
    (both_files("window_seconds", "0"), HEAD_FILE, "metadata entry 'window_seconds' is 0.0"),
)
MODELS.add(
    "window-seconds-nan",
    "metadata whose `window_seconds` is NaN",
    "`ModelError` naming head.onnx and `window_seconds`",
    (both_files("window_seconds", "nan"), HEAD_FILE, "metadata entry 'window_seconds' is NaN"),
)
MODELS.add(
    "window-length-zero",
    "metadata whose `window_length` is 0",
    "`ModelError`: `.../head.onnx: metadata entry 'window_length' is 0, expected 1 to 10000 frames` (was an "
    "`IndexError`)",
    (both_files("window_length", "0"), HEAD_FILE, "metadata entry 'window_length' is 0"),
)
MODELS.add(
    "window-length-not-the-graphs",
    "metadata whose `window_length` (19) differs from the graph's fixed window (20)",
    "`ModelError`: `.../head.onnx: metadata entry 'window_length' says 19, the graph's hand_mask has 20 ...`",
    (both_files("window_length", "19"), HEAD_FILE, "metadata entry 'window_length' says 19"),
)
MODELS.add(
    "normalization-std-zero",
    "metadata whose `normalization_std` holds a 0 (crops would be divided by it)",
    "`ModelError` naming head.onnx and `normalization_std`",
    (both_files("normalization_std", "[0.2, 0.0, 0.2]"), HEAD_FILE, "metadata entry 'normalization_std'"),
)
MODELS.add(
    "files-from-two-exports",
    "glimpse.onnx from another export (its metadata says another model version)",
    "`ModelError`: `<folder>: glimpse.onnx and head.onnx come from different exports`",
    (onnx_edit(GLIMPSE_FILE, set_metadata("model_version", "other")), "", "come from different exports"),
)
MODELS.add(
    "folder-is-a-file",
    "`--model` naming a file instead of a folder",
    "`ModelError`: `<path>: model folder not found (it should hold glimpse.onnx, head.onnx)`",
    (None, "", "model folder not found"),
)


@pytest.fixture
def model_copy(tiny_model_folder: Path, tmp_path: Path) -> Path:
    """The tiny model's files linked into a folder of our own (a case replaces the file it damages)."""
    folder = tmp_path / "model"
    folder.mkdir()
    for name in (GLIMPSE_FILE, HEAD_FILE):
        (folder / name).symlink_to(tiny_model_folder / name)
    return folder


@MODELS.parametrize()
def test_a_bad_model_file_is_a_model_error_naming_it(case, model_copy: Path, capsys) -> None:
    damage, file, message = case.data
    target = model_copy
    if damage is None:
        target = model_copy / HEAD_FILE
    else:
        damage(model_copy)
    named = target / file if file else target
    with pytest.raises(ModelError) as caught:
        OnnxModel(target)
    assert str(caught.value).startswith(f"{named}: ") and message in str(caught.value), caught.value
    assert "\n" not in str(caught.value)
    assert main(["run", "synthetic", "--headless", "--model", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


SHAPES = Cases(
    "Model inputs",
    "Arrays of the wrong shape handed to the model (a caller's bug, not a file's): one line naming the file "
    "and both shapes, never ONNX Runtime's multi-line error.",
)
SHAPES.add(
    "features-wrong-width",
    "glimpse features of 7 values instead of the model's feature_dim",
    "`ModelError`: `.../head.onnx: input features of shape (1, 20, 4, 7), expected B x 20 x 4 x D`",
    ("features", (1, 20, 4, 7)),
)
SHAPES.add(
    "mask-wrong-length",
    "a hand mask of 19 steps",
    "`ModelError`: `.../head.onnx: input hand_mask of shape (1, 19, 4), expected B x 20 x 4`",
    ("hand_mask", (1, 19, 4)),
)
SHAPES.add(
    "pose-without-batch",
    "a pose without its batch axis (20 x 150)",
    "`ModelError` naming head.onnx and the shape",
    ("pose", (20, 150)),
)
SHAPES.add(
    "crops-grey",
    "one-channel crops (N x 1 x S x S)",
    "`ModelError`: `.../glimpse.onnx: crops of shape (2, 1, 32, 32), expected N x 3 x 32 x 32`",
    ("crops", (2, 1, 32, 32)),
)
SHAPES.add(
    "crops-unbatched",
    "a single crop without its batch axis (3 x S x S)",
    "`ModelError` naming glimpse.onnx and the shape",
    ("crops", (3, 32, 32)),
)


@SHAPES.parametrize()
def test_inputs_of_the_wrong_shape_are_a_model_error(case, tiny_model_folder: Path) -> None:
    model = OnnxModel(tiny_model_folder)
    name, shape = case.data
    inputs = {
        "features": np.zeros((1, 20, 4, model.info.feature_dim), np.float32),
        "hand_mask": np.ones((1, 20, 4), np.float32),
        "pose": np.zeros((1, 20, 150), np.float32),
    }
    with pytest.raises(ModelError) as caught:
        if name == "crops":
            model.glimpse_features(np.zeros(shape, np.float32))
        else:
            model.run_head(**{**inputs, name: np.zeros(shape, np.float32)})
    file = GLIMPSE_FILE if name == "crops" else HEAD_FILE
    assert str(caught.value).startswith(str(tiny_model_folder / file)) and str(shape) in str(caught.value)
    assert "\n" not in str(caught.value)


CHECKPOINTS = Cases(
    "Checkpoints (training side)",
    "A checkpoint is a `.safetensors` file: weights and JSON only. Nothing the training side reads is "
    "unpickled, so a malicious pickle cannot run.",
)


class Payload:
    """Unpickling this creates the file `marker`: what an attacker's checkpoint would run instead."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (str(self.marker), "w"))


def raw_pickle(path: Path, marker: Path) -> None:
    path.write_bytes(pickle.dumps({"state_dict": Payload(marker)}))


def torch_pickle(path: Path, marker: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.save({"state_dict": Payload(marker), "weights": torch.zeros(3)}, path)


CHECKPOINTS.add(
    "pickle-as-checkpoint",
    "a plain pickle whose unpickling would run code, named `model.safetensors` and `model.pt`",
    "`CheckpointError: not a safetensors file`; nothing is unpickled (the payload never runs)",
    raw_pickle,
)
CHECKPOINTS.add(
    "torch-save-as-checkpoint",
    "a `torch.save` zip holding the same malicious object",
    "`CheckpointError: not a safetensors file`; the payload never runs",
    torch_pickle,
)


@CHECKPOINTS.parametrize()
@pytest.mark.parametrize("name", ["model.safetensors", "model.pt"])
def test_a_malicious_pickle_is_refused_without_running(case, name: str, tmp_path: Path, capsys) -> None:
    checkpoint = pytest.importorskip("sta_hands.models.checkpoint")
    marker = tmp_path / "payload-ran"
    path = tmp_path / name
    case.data(path, marker)
    with pytest.raises(checkpoint.CheckpointError, match="not a safetensors file"):
        checkpoint.load(path)
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.read_header(path)
    assert main(["export", str(path), "--out", str(tmp_path / "out")]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a safetensors file" in err and "Traceback" not in err
    assert not marker.exists(), "the pickle was loaded"
