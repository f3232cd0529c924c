"""A model folder's faithfulness figures (`faithfulness.json`), read for the explain dialog and said in one
sentence there; a missing or broken file leaves the sentence out."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from sta_hands.app.faithfulness_note import FAITHFULNESS_FILE, faithfulness_sentence, read_faithfulness
from sta_hands.app.gui.explain import ExplainDialog
from sta_hands.app.gui.frame_cache import FrameCache
from tests.app.test_gui_drawing import make_prediction

FIGURES = {
    "removed": "hands",
    "stream": "rgb",
    "windows": 495,
    "attended_drop_larger": 0.921,
    "mean_drop_attended": 0.630,
    "mean_drop_least_attended": 0.006,
}


def test_the_figures_are_read_from_the_model_folder_and_said_plainly(tmp_path: Path) -> None:
    assert read_faithfulness(tmp_path) is None  # unknown for this model: nothing is said
    (tmp_path / FAITHFULNESS_FILE).write_text(json.dumps({**FIGURES, "measured_on": {"clips": 99}}))
    figures = read_faithfulness(tmp_path)
    assert figures is not None and figures["windows"] == 495
    sentence = faithfulness_sentence(figures)
    assert sentence is not None and "in 92% of 495 windows (by 63 points against 1 on average)" in sentence
    assert "hiding that hand" in sentence


def test_a_broken_file_is_one_warning_naming_it_and_no_sentence(tmp_path: Path, caplog) -> None:
    path = tmp_path / FAITHFULNESS_FILE
    for text in ("{not json", json.dumps({**FIGURES, "windows": "many"}), "[1, 2]"):
        path.write_text(text)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert read_faithfulness(tmp_path) is None
        assert len(caplog.records) == 1 and str(path) in caplog.records[0].getMessage()


def test_the_explain_dialog_says_it_when_known_only(qtbot, tmp_path: Path) -> None:
    prediction = make_prediction()
    known = ExplainDialog(prediction, FrameCache(), faithfulness=FIGURES)
    unknown = ExplainDialog(prediction, FrameCache())
    for dialog in (known, unknown):
        qtbot.addWidget(dialog)
    assert known.faithfulness.text() == faithfulness_sentence(FIGURES) and not known.faithfulness.isHidden()
    assert unknown.faithfulness.isHidden()


def test_a_pose_models_figures_are_said_as_joints_held_still() -> None:
    joints = {**FIGURES, "removed": "joints", "stream": "pose", "joints_held": 5, "random_draws": 4}
    sentence = faithfulness_sentence(joints)
    assert sentence is not None and "freezing its 5 most relevant joints" in sentence
    assert "5 other joints picked at random" in sentence and "in 92% of 495 windows" in sentence
    assert "hand" not in sentence
    assert faithfulness_sentence({**FIGURES, "removed": "frames"}) is None  # a removal it cannot say


def test_the_bundled_pose_models_figures_are_read_for_their_dialog() -> None:
    from sta_hands.app.model_choice import bundled_folder

    for name in ("shiftgcn-ntu120-xsub", "shiftgcn-ntu60-xsub"):  # scripts/pose_faithfulness.py wrote them
        figures = read_faithfulness(bundled_folder(name))
        assert figures is not None and figures["removed"] == "joints" and figures["windows"] > 0
        sentence = faithfulness_sentence(figures)
        assert sentence is not None and "most relevant joints" in sentence
