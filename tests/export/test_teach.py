"""`sta-hands teach`: a model taught on a small synthetic examples folder recognises other performers,
its progress lines keep the contract the GUI reads, SIGTERM leaves no half-written model, and bad
examples folders get one clear line each without anything recorded being lost."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="teach trains with PyTorch (the train extra)")

from sta_hands.app.runtime import OnnxModel, default_model_folder
from sta_hands.commands.cli import main
from sta_hands.contract.frame import NUM_JOINTS, Body, Frame
from sta_hands.recordings.own.recording import RecordingPaths, RecordingWriter
from sta_hands.recordings.synthetic import SYNTHETIC_CLASSES, ClipSpec, generate_dataset
from sta_hands.teach.augment import PoseAugmentation, mirror_pose, rotate_scale_jitter

ACTIONS = ("wave right hand", "squat")  # a hand and a whole-body motion: tiny settings learn them
FRAMES = 45  # 1.5 s at 30 fps
TRAIN_PERFORMERS, TEST_PERFORMERS = (1, 2, 3), (4, 5, 6)


def _clips(folder: Path, performers: tuple[int, ...]) -> Path:
    specs = [
        ClipSpec(index=10 * p + c, seed=3, class_index=SYNTHETIC_CLASSES.index(a), performer=p, frames=FRAMES)
        for p in performers
        for c, a in enumerate(ACTIONS)
    ]
    generate_dataset(folder, specs, workers=1, progress=False)
    return folder


@pytest.fixture(scope="module")
def base_model() -> Path:
    try:
        return default_model_folder()
    except Exception as error:  # the demo is built by python -m sta_hands.commands.make_demo
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def taught(tmp_path_factory: pytest.TempPathFactory, base_model: Path) -> dict:
    """The CLI run once on the training performers (tiny settings), with its progress lines."""
    work = tmp_path_factory.mktemp("teach")
    examples, test = _clips(work / "examples", TRAIN_PERFORMERS), _clips(work / "test", TEST_PERFORMERS)
    out, report, cache = work / "model", work / "teach.json", work / "cache"
    capture = work / "stdout.txt"
    import contextlib

    with open(capture, "w") as stdout, contextlib.redirect_stdout(stdout):
        code = main(["teach", str(examples), "--out", str(out), "--tiny", "--cache", str(cache),
                     "--progress-jsonl", "--json", str(report)])  # fmt: skip
    lines = [json.loads(line) for line in capture.read_text().splitlines()]
    return {"code": code, "out": out, "lines": lines, "report": report, "examples": examples, "test": test,
            "cache": cache}  # fmt: skip


def test_the_taught_model_recognises_other_performers(taught: dict) -> None:
    from sta_hands.export.evaluate_onnx import evaluate_exported
    from sta_hands.models.data import Dataset
    from sta_hands.teach.example_set import find_examples

    assert taught["code"] == 0
    model = OnnxModel(taught["out"])  # what run --model and the GUI open
    assert model.info.class_names == tuple(sorted(ACTIONS, key=str.casefold))
    teach_record = json.loads(model.head.get_modelmeta().custom_metadata_map["teach"])
    assert teach_record["examples"] == {action: len(TRAIN_PERFORMERS) for action in ACTIONS}
    found = find_examples(taught["test"])
    assert found.class_names == model.info.class_names
    dataset = Dataset(taught["test"], tuple(e.clip for e in found.examples), found.class_names)
    report = evaluate_exported(taught["out"], dataset, progress=False)
    assert report["clips"] == 6
    assert report["accuracy"]["fused"] >= 5 / 6  # chance is 1/2


def test_run_opens_the_taught_model(taught: dict, capsys: pytest.CaptureFixture[str]) -> None:
    clip = sorted(taught["test"].glob("*.jsonl"))[0]
    assert main(["run", str(clip), "--model", str(taught["out"]), "--headless", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert lines[-1]["summary"]["windows_classified"] == len(lines) - 1 > 0
    assert {top["class"] for line in lines[:-1] for top in line["top"]} == set(ACTIONS)


def test_progress_lines_keep_the_contract(taught: dict) -> None:
    lines = taught["lines"]
    stages = [line["stage"] for line in lines]
    assert stages[-1] == "done" and stages.count("done") == 1
    order = ["features", "training", "export"]
    assert [s for i, s in enumerate(stages[:-1]) if i == 0 or stages[i - 1] != s] == order
    for line in lines[:-1]:
        assert set(line) == {"stage", "done", "total", "eta_s", "message"}
        assert 0 <= line["done"] <= line["total"] and isinstance(line["message"], str)
        assert line["eta_s"] is None or line["eta_s"] >= 0
    for stage in order:
        done = [line["done"] for line in lines if line["stage"] == stage]
        assert done == sorted(done) and done[-1] == [ln["total"] for ln in lines if ln["stage"] == stage][-1]
    final = lines[-1]
    assert final["model"] == str(taught["out"]) and final["classes"] == sorted(ACTIONS, key=str.casefold)
    assert final["examples"] == {action: 3 for action in ACTIONS}
    assert "too few examples to hold any out" in final["message"] and final["validation_accuracy"] is None
    # from the shipped demo's weights (issue 23: its int8 head's were not found)
    assert "started from the pose stream GRUs and attention MLPs" in final["message"]
    assert "base weights not used" not in final["message"]
    assert json.loads(taught["report"].read_text()) == {
        key: final[key] for key in ("classes", "examples", "seconds", "validation_accuracy")
    }


def test_sigterm_stops_cleanly_and_keeps_the_previous_model(taught: dict, tmp_path: Path) -> None:
    """As the GUI's cancel button does: SIGTERM to the command's own process while it trains (a real
    signal to a real process, not to the test runner, whose other threads a signal would reach too)."""
    import shutil
    import subprocess
    import sys

    out = tmp_path / "model"
    shutil.copytree(taught["out"], out)
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    killed = tmp_path / ".model.teach-1-2"  # a run killed outright yesterday left its staging folder
    killed.mkdir()
    os.utime(killed, (time.time() - 86400, time.time() - 86400))
    arguments = ["--tiny", "--cache", str(taught["cache"]), "--progress-jsonl"]
    command = [sys.executable, "-m", "sta_hands.commands", "teach", str(taught["examples"])]
    command += ["--out", str(out)]
    command += arguments
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        lines = []
        for line in child.stdout:
            lines.append(json.loads(line))
            if lines[-1]["stage"] == "training":
                child.send_signal(signal.SIGTERM)
                break
        lines += [json.loads(line) for line in child.stdout]
        code = child.wait(timeout=120)
    assert code == 130 and lines[-1]["stage"] == "error" and "SIGTERM" in lines[-1]["message"]
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no staging folder left


def test_base_weights_are_read_back_from_an_exported_head_and_checked(
    taught: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sta_hands.teach import base as teach_base

    base = OnnxModel(taught["out"])  # a split head (projection.onnx), as export writes now
    weights = teach_base.read_base_weights(base, teach_base.base_config(base))
    assert {f"pose_stream.gru.weight_ih_l{k}" for k in range(3)} <= set(weights)
    assert "rgb_stream.spatial_attention.0.weight" in weights
    # read back wrongly (ONNX's GRU gate order taken as PyTorch's), the weights are refused
    monkeypatch.setattr(teach_base, "_gate_order", lambda gates, hidden: gates)
    with pytest.raises(teach_base.BaseWeightsError, match="pose_logits"):
        teach_base.read_base_weights(base, teach_base.base_config(base))


def test_base_weights_are_read_back_from_the_shipped_int8_demo(base_model: Path) -> None:
    """The shipped demo's head was optimised and quantised: `..._Transposed` weights, int8 ones (issue 23)."""
    import onnx
    import torch

    from sta_hands.models.two_stream import TwoStreamModel
    from sta_hands.teach import base as teach_base
    from sta_hands.teach.train import config_for

    base = OnnxModel(base_model)
    names = {init.name for init in onnx.load(str(base_model / "head.onnx")).graph.initializer}
    assert any(n.endswith("_Transposed") for n in names) and any(n.endswith("_quantized") for n in names)
    config = teach_base.base_config(base)
    weights = teach_base.read_base_weights(base, config)  # checked against the head, else it raises
    model = TwoStreamModel(config_for(config, 3))
    transferable = {name for name, _ in model.named_parameters() if name.startswith(teach_base.TRANSFERRED)}
    assert transferable <= set(weights) and len(transferable) == 20
    message = teach_base.base_weights_for(base, config)(model)
    assert message.startswith("started from the pose stream GRUs and attention MLPs"), message
    assert "(20 tensors)" in message
    state = model.state_dict()
    assert all(torch.equal(state[name], weights[name]) for name in transferable)


def test_int8_attention_weights_are_read_back_dequantised(
    base_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's float MatMuls (attention, pose classifier) quantised too, dynamic int8 per column:
    each read back within half a step of the float one, under its name, and still checked."""
    import shutil

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from sta_hands.export.onnx_metadata import read_metadata, write_metadata
    from sta_hands.teach import base as teach_base

    folder = tmp_path / "int8 attention"
    shutil.copytree(base_model, folder)
    quantize_dynamic(str(base_model / "head.onnx"), str(folder / "head.onnx"), weight_type=QuantType.QInt8,
                     per_channel=True, reduce_range=True, op_types_to_quantize=["MatMul"],
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})  # fmt: skip
    write_metadata(folder / "head.onnx", read_metadata(base_model / "head.onnx"))
    graph = onnx.load(str(folder / "head.onnx")).graph
    stored = {init.name: onnx.numpy_helper.to_array(init) for init in graph.initializer}
    original, _ = teach_base.float_weights(onnx.load(str(base_model / "head.onnx")).graph)
    read, dequantized = teach_base.float_weights(graph)
    names = {n.removesuffix("_quantized") for n in stored if n.endswith("_quantized")}
    assert "model.rgb_stream.temporal_attention.0.weight_Transposed" in names and names == dequantized
    for name in names:
        assert read[name].dtype == np.float32 and read[name].shape == original[name].shape
        assert (np.abs(read[name] - original[name]) <= stored[f"{name}_scale"] / 2 + 1e-6).all(), name
    base = OnnxModel(folder)
    weights = teach_base.read_base_weights(base, teach_base.base_config(base))
    assert not np.array_equal(
        weights["rgb_stream.temporal_attention.0.weight"].numpy(),
        original["model.rgb_stream.temporal_attention.0.weight_Transposed"].T,
    )  # the int8 head's own weights
    monkeypatch.setattr(teach_base, "_gate_order", lambda gates, hidden: gates)
    with pytest.raises(teach_base.BaseWeightsError, match="pose_logits"):
        teach_base.read_base_weights(base, teach_base.base_config(base))


# ------------------------------------------------------------------------------------------ bad input


def _example(stem: Path, action: str | None, bodies: bool = True, frames: int = 3) -> RecordingPaths:
    """A tiny recording (64 x 48 px, one still body or none), labelled `action` in its sidecar."""
    joints = np.column_stack([np.linspace(-0.3, 0.3, NUM_JOINTS), np.linspace(-0.8, 0.8, NUM_JOINTS),
                              np.full(NUM_JOINTS, 3.0)])  # fmt: skip
    body = Body(id=7, joints=joints, color_px=np.full((NUM_JOINTS, 2), 20.0), tracking=np.full(NUM_JOINTS, 2))
    metadata = {} if action is None else {"action": action}
    with RecordingWriter(stem, metadata=metadata, fsync_every=0, fsync_seconds=None) as writer:
        for t in range(frames):
            image = np.full((48, 64, 3), 40 * t, dtype=np.uint8)
            writer.write(Frame(index=t, timestamp=t / 30.0, image=image, bodies=(body,) if bodies else ()))
    return RecordingPaths(stem)


def _teach_error(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, dict]:
    snapshot = {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}
    out = tmp_path / "model"
    code = main(["teach", str(folder), "--out", str(out), "--tiny", "--progress-jsonl",
                 "--cache", str(tmp_path / "cache")])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2 and not out.exists()
    assert {
        path: path.read_bytes() for path in folder.rglob("*") if path.is_file()
    } == snapshot  # nothing lost
    errors = captured.err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("sta-hands teach: ")
    return errors[0], json.loads(captured.out.strip().splitlines()[-1])


def test_an_action_with_one_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "examples"
    (
        _example(folder / "wave 01", "wave"),
        _example(folder / "wave 02", "wave"),
        _example(folder / "clap 01", "clap"),
    )
    error, last = _teach_error(folder, tmp_path, capsys)
    assert "clap 01.jsonl" in error and "'clap' has 1 example;" in error and "at least 2" in error
    assert last == {"stage": "error", "message": error.removeprefix("sta-hands teach: ")}


def test_an_example_with_no_bodies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "examples"
    for name in ("wave 01", "wave 02", "clap 01"):
        _example(folder / name, name.split()[0])
    _example(folder / "clap 02", "clap", bodies=False)
    error, _ = _teach_error(folder, tmp_path, capsys)
    assert "clap 02.jsonl" in error and "frames 0-2: no body in any frame" in error


def test_an_empty_examples_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "examples"
    folder.mkdir()
    (folder / "notes.txt").write_text("not an example")
    error, last = _teach_error(folder, tmp_path, capsys)
    assert f"{folder}: no examples in this folder" in error and last["stage"] == "error"


@pytest.mark.parametrize("name", ["wave/left", "what?", "CON", ""])
def test_an_action_name_that_is_not_a_file_name(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "examples"
    for stem in ("a 01", "a 02", "b 01", "b 02"):
        _example(folder / stem, name if stem.startswith("b") else "wave")
    error, _ = _teach_error(folder, tmp_path, capsys)
    assert "b 01.jsonl" in error and "action" in error


def test_an_example_without_a_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "examples"
    _example(folder / "recorded", None)
    error, _ = _teach_error(folder, tmp_path, capsys)
    assert "recorded.jsonl" in error and "no 'action' in the header" in error


# ------------------------------------------------------------------------ where the model goes (issue 23)


def _files(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def _teach_into(examples: Path, out: Path, cache: Path) -> int:
    return main(["teach", str(examples), "--out", str(out), "--tiny", "--cache", str(cache)])


def test_examples_inside_the_model_folder_are_refused_and_kept(
    taught: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's reproduction: cp -r MODEL M; cp -r EXAMPLES M/examples; teach M/examples --out M."""
    import shutil

    model = tmp_path / "M"
    shutil.copytree(taught["out"], model)
    shutil.copytree(taught["examples"], model / "examples")
    before = _files(model)
    assert _teach_into(model / "examples", model, taught["cache"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "holds the examples folder" in error[0]
    assert _files(model) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["M"]  # no staging folder left


@pytest.mark.parametrize("kept", ["notes.txt", "old runs/first.txt"])
def test_a_model_folder_holding_the_users_files_is_refused(
    kept: str, taught: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    model = tmp_path / "model"
    shutil.copytree(taught["out"], model)
    (model / kept).parent.mkdir(exist_ok=True)
    (model / kept).write_text("mine")
    before = _files(model)
    assert _teach_into(taught["examples"], model, taught["cache"]) == 2
    error = capsys.readouterr().err.strip()
    assert f"holds {kept.split('/')[0]!r}, which teach did not write" in error
    assert _files(model) == before


def test_a_model_that_teach_did_not_write_is_refused(
    taught: dict, base_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    model = tmp_path / "demo copy"
    shutil.copytree(base_model, model)
    before = _files(model)
    assert _teach_into(taught["examples"], model, taught["cache"]) == 2
    assert "a model that teach did not write" in capsys.readouterr().err
    assert _files(model) == before


def test_a_model_that_teach_wrote_is_replaced_and_others_staging_kept(taught: dict, tmp_path: Path) -> None:
    import shutil

    model = tmp_path / "model"
    shutil.copytree(taught["out"], model)
    (model / "faithfulness.json").write_text("{}")  # evaluate --save-faithfulness: the old model's figures
    old_record = json.loads(OnnxModel(model).head.get_modelmeta().custom_metadata_map["teach"])
    stale, foreign = tmp_path / ".model.teach-1-2", tmp_path / ".model.old-mine"
    for folder, name in ((stale, "head.onnx"), (foreign, "diary.txt")):  # killed runs', and a user's
        folder.mkdir()
        (folder / name).write_text("x")
        os.utime(folder, (time.time() - 86400, time.time() - 86400))
    time.sleep(1.1)  # trained_at has whole seconds
    assert _teach_into(taught["examples"], model, taught["cache"]) == 0
    record = json.loads(OnnxModel(model).head.get_modelmeta().custom_metadata_map["teach"])
    assert record["trained_at"] != old_record["trained_at"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.old-mine", "model"]
    assert (foreign / "diary.txt").read_text() == "x" and not (model / "faithfulness.json").exists()


def test_a_file_or_a_link_as_the_model_folder_is_refused(taught: dict, tmp_path: Path) -> None:
    from sta_hands.teach.example_set import TeachInputError
    from sta_hands.teach.teaching import _check_out

    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "link").symlink_to(taught["out"], target_is_directory=True)
    with pytest.raises(TeachInputError, match="exists and is not a folder"):
        _check_out(tmp_path / "notes.txt", taught["examples"])
    with pytest.raises(TeachInputError, match="a link"):
        _check_out(tmp_path / "link", taught["examples"])
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "link").is_symlink()


def test_a_file_put_in_the_model_folder_while_it_trains_is_kept(taught: dict, tmp_path: Path) -> None:
    import shutil

    from sta_hands.teach.example_set import TeachInputError
    from sta_hands.teach.teaching import _staging

    model = tmp_path / "model"
    shutil.copytree(taught["out"], model)
    with (
        pytest.raises(TeachInputError, match=r"'notes\.txt', which teach did not write"),
        _staging(model) as staging,
    ):
        (staging / "head.onnx").write_bytes(b"new")
        (model / "notes.txt").write_text("mine")
    assert (model / "notes.txt").read_text() == "mine" and (model / "head.onnx").read_bytes() != b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


# ---------------------------------------------------------------------------------------- augmentation


def test_mirroring_swaps_the_sides_and_keeps_absent_bodies_zero() -> None:
    rng = np.random.default_rng(0)
    pose = rng.normal(size=(2, 20, 150)).astype(np.float32)
    pose[:, :, 75:] = 0.0  # no second person
    mirrored = mirror_pose(pose)
    xyz, back = pose.reshape(2, 20, 2, 25, 3), mirrored.reshape(2, 20, 2, 25, 3)
    hand_left, hand_right, head = 7, 11, 3
    np.testing.assert_array_equal(back[:, :, 0, hand_left], xyz[:, :, 0, hand_right] * [-1, 1, 1])
    np.testing.assert_array_equal(back[:, :, 0, head], xyz[:, :, 0, head] * [-1, 1, 1])
    np.testing.assert_array_equal(mirror_pose(mirrored), pose)
    assert not back[:, :, 1].any()
    turned = rotate_scale_jitter(pose, rng, PoseAugmentation(rotation_deg=30, scale=0.0, jitter_m=0.0))
    assert not turned.reshape(2, 20, 2, 25, 3)[:, :, 1].any()
    heights = turned.reshape(2, 20, 2, 25, 3)[..., 1]
    np.testing.assert_allclose(heights, xyz[..., 1], atol=1e-6)  # about the vertical axis
    np.testing.assert_allclose(np.linalg.norm(turned.reshape(2, 20, 2, 25, 3)[..., [0, 2]], axis=-1),
                               np.linalg.norm(xyz[..., [0, 2]], axis=-1), atol=1e-5)  # fmt: skip
