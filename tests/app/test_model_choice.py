"""Which model runs with no `--model` (the demo model for synthetic clips, the pretrained pose model for real
sources), and `run --json` saying which model and kind made each line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from sta_hands.app import model_choice
from sta_hands.app.model_choice import REAL_SOURCE_MODEL, default_model_folder_for, synthetic_source
from sta_hands.app.runtime import default_model_folder
from sta_hands.commands.cli import main
from sta_hands.recordings.own.recording import RecordingWriter
from sta_hands.recordings.sources import open_reader
from tests.app.conftest import gui_frame
from tests.tiny_pose_model import export_tiny_pose_model


@pytest.fixture(scope="module")
def tiny_pose_folder(tmp_path_factory) -> Path:
    return export_tiny_pose_model(tmp_path_factory.mktemp("bundled") / REAL_SOURCE_MODEL)


def _recording(stem: Path, device: str) -> Path:
    with RecordingWriter(stem, fps=30.0, device=device) as writer:
        for i in range(45):
            frame = gui_frame(i, 45, size=(320, 180))
            writer.write(frame)
    return stem.with_suffix(".jsonl")


@pytest.fixture
def bundled_pose(monkeypatch, tiny_pose_folder) -> Path:
    """The tiny stand-in in place of the bundled pose model (until and beside the real one)."""
    monkeypatch.setattr(model_choice, "bundled_folder", lambda name: tiny_pose_folder.parent / name)
    return tiny_pose_folder


def test_the_demo_and_synthetic_clips_run_the_demo_model(bundled_pose) -> None:
    for spec in ("demo", "synthetic"):
        with open_reader(spec) as reader:
            assert synthetic_source(reader)
            assert default_model_folder_for(reader) == default_model_folder()


def test_a_real_recording_runs_the_pose_model_and_a_synthetic_one_the_demo(bundled_pose, tmp_path) -> None:
    real = _recording(tmp_path / "mine", "kinect v2")
    synthetic = _recording(tmp_path / "synth", "synthetic")
    with open_reader(real) as reader:
        assert default_model_folder_for(reader) == bundled_pose
    with open_reader(synthetic) as reader:
        assert default_model_folder_for(reader) == default_model_folder()


def test_a_real_ntu_file_runs_the_pose_model(bundled_pose, ntu_samples) -> None:
    with open_reader(ntu_samples / "S001C001P001R001A001.skeleton") as reader:
        assert default_model_folder_for(reader) == bundled_pose


def test_without_the_bundled_pose_model_the_demo_runs_and_says_why(monkeypatch, tmp_path, caplog) -> None:
    monkeypatch.setattr(model_choice, "bundled_folder", lambda name: tmp_path / "absent" / name)
    real = _recording(tmp_path / "mine", "kinect v2")
    with caplog.at_level(logging.WARNING), open_reader(real) as reader:
        assert default_model_folder_for(reader) == default_model_folder()
    assert "bundled pose model is missing" in caplog.text


def test_run_json_names_the_model_and_kind_of_each_line(bundled_pose, tmp_path, capsys) -> None:
    real = _recording(tmp_path / "mine", "kinect v2")
    assert main(["run", str(real), "--headless", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    predictions = [line for line in lines if "status" in line]
    assert predictions and all(line["kind"] == "pose-gcn" for line in predictions)
    assert {line["model"] for line in predictions} == {REAL_SOURCE_MODEL}
    assert {line["model_version"] for line in predictions} == {"tiny pose test model"}
    assert all(line["explanation"] == "relevance" for line in predictions)
    for line in predictions:  # where over the window: person slot x joint, shares of the window's relevance
        relevance = np.array(line["joint_relevance"])
        assert relevance.shape == (2, 25) and abs(relevance.sum() - 1.0) < 1e-3


def test_the_demo_still_runs_the_demo_model(bundled_pose, capsys) -> None:
    assert main(["run", "demo", "--headless", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    predictions = [line for line in lines if "status" in line]
    assert predictions and {(line["model"], line["kind"]) for line in predictions} == {("demo", "two-stream")}
    assert all(line["explanation"] == "attention" for line in predictions)


def test_info_says_which_model_a_source_runs(bundled_pose, tmp_path, capsys) -> None:
    real = _recording(tmp_path / "mine", "kinect v2")
    assert main(["info", str(real)]) == 0
    assert "model:   tiny pose test model (6 actions, pose only, relevance)" in capsys.readouterr().out
    assert main(["info", "demo"]) == 0
    assert "(11 actions, pose + hand crops, attention)" in capsys.readouterr().out
