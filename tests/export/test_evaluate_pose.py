"""`evaluate` on a pose model's folder: the same evaluation windows, classified by the app's pose model, only
the streams it has scored, and the faithfulness of its relevance (a tiny stand-in pose model with the tiny
synthetic dataset's classes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sta_hands.app.pose_model import PoseModel, joints_input
from sta_hands.contract.inputs import window_inputs
from sta_hands.export.evaluate_onnx import evaluate_exported
from sta_hands.models.data import clip_hand_frames, evaluation_windows, find_dataset, num_frames
from sta_hands.models.evaluate import SEED, VIEWS
from tests.models.test_data import tiny_dataset
from tests.tiny_pose_model import export_tiny_pose_model, tiny_pose_info


def test_a_pose_model_folder_is_evaluated_on_the_same_windows_through_the_app(tmp_path: Path) -> None:
    dataset = find_dataset(tiny_dataset())
    info = tiny_pose_info(classes=tuple(dataset.class_names), window_length=12, window_seconds=0.4)
    folder = export_tiny_pose_model(tmp_path / "pose", info)
    report = evaluate_exported(folder, dataset, split="cs", progress=False)
    clips = dataset.split("cs", "test")
    assert report["clips"] == len(clips)
    assert report["accuracy"]["rgb"] is None and report["accuracy"]["fused"] == report["accuracy"]["pose"]
    faithful = report["faithfulness"]  # its relevance's: the most relevant joints held still against random
    assert faithful["removed"] == "joints" and faithful["stream"] == "pose"
    assert faithful["windows"] == VIEWS * len(clips) and faithful["joints_held"] == 5
    model = PoseModel(folder)
    for clip, predicted in zip(clips, report["predictions"], strict=True):
        windows = evaluation_windows(clip.name, num_frames(clip), info.window_length, VIEWS, SEED)
        frames = clip_hand_frames(clip, np.unique(np.concatenate(windows)))
        logits = [
            model.run(joints_input(window_inputs([frames[int(i)] for i in indices]).pose))["logits"][0]
            for indices in windows
        ]
        expected = int(np.argmax(np.mean(logits, axis=0)))
        assert predicted["clip"] == clip.name and predicted["fused"] == predicted["pose"] == expected
        assert "rgb" not in predicted
