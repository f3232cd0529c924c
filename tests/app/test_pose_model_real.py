"""The bundled Shift-GCN NTU-120 model (models/shiftgcn-ntu120-xsub) through the app, on real NTU skeletons:
the default for a real file, its live windows, its relevance (skipped without ../shared)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from sta_hands.app.gui.explain import explain_sentence
from sta_hands.app.model_choice import REAL_SOURCE_MODEL, bundled_folder, default_model_folder_for, open_model
from sta_hands.app.recognizer import StreamRecognizer
from sta_hands.app.relevance import LEFT_HAND, RIGHT_HAND
from sta_hands.app.replay import replay
from sta_hands.contract.pose_model_contract import POSE_MODEL_KIND
from sta_hands.recordings.sources import open_reader

DRINKING = "S001C001P001R001A001.skeleton"  # a woman drinks water with her right hand


@pytest.fixture(scope="module")
def bundled_pose():
    folder = bundled_folder(REAL_SOURCE_MODEL)
    if not folder.is_dir():
        pytest.skip(f"the bundled pose model is not at {folder}")
    return open_model(folder)


def _windows(model, path):
    recognizer = StreamRecognizer(model)
    return [p for _frame, predictions in replay(open_reader(path), recognizer) for p in predictions]


def test_a_real_ntu_skeleton_runs_the_bundled_pose_model_and_names_the_action(bundled_pose, ntu_samples):
    with open_reader(ntu_samples / DRINKING) as reader:
        assert default_model_folder_for(reader) == bundled_folder(REAL_SOURCE_MODEL)
    assert bundled_pose.kind == POSE_MODEL_KIND
    predictions = _windows(bundled_pose, ntu_samples / DRINKING)
    named = Counter(p.top(1)[0][0] for p in predictions if p.status == "ok")
    assert named.most_common(1)[0][0] == "drink water"
    assert named["drink water"] > sum(named.values()) / 2


def test_its_relevance_is_on_her_right_hand(bundled_pose, ntu_samples) -> None:
    predictions = [
        p for p in _windows(bundled_pose, ntu_samples / DRINKING) if p.top(1)[0][0] == "drink water"
    ]
    assert predictions
    for prediction in predictions:
        per_joint = prediction.joint_relevance.sum(axis=0)[0]  # person 1, over the window
        hand = per_joint[list(RIGHT_HAND)].mean()
        assert hand > 1.3 * np.median(per_joint)  # her right hand's joints stand out
        assert hand > per_joint[list(LEFT_HAND)].mean()  # more than her idle left hand's
        assert "right hand" in explain_sentence(prediction)
