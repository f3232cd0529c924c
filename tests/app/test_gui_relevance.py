"""A pose model in the window: its class relevance on the hand tiles, the curve and the skeleton, named
"relevance" wherever it is not the paper's attention; the default model follows the source."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PyQt5.QtCore import QSettings
from PyQt5.QtWidgets import QLabel

from sta_hands.app import model_choice
from sta_hands.app.gui.drawing import render_overlay
from sta_hands.app.gui.explain import ExplainDialog, explain_sentence, streams_sentence
from sta_hands.app.gui.frame_cache import FrameCache
from sta_hands.app.gui.frame_view import prepare_view
from sta_hands.app.gui.hand_panel import HandPanel
from sta_hands.app.gui.temporal_curve import TemporalCurve
from sta_hands.app.gui.window.view import WindowView
from sta_hands.app.pose_model import PoseModel
from sta_hands.app.recognizer import StreamRecognizer
from sta_hands.app.relevance import RIGHT_HAND
from sta_hands.app.runtime import default_model_folder
from sta_hands.contract.frame import Frame
from sta_hands.contract.pose_model_contract import POSE_MODEL_KIND
from tests.app.conftest import gui_frame, gui_source, shown_window
from tests.tiny_pose_model import export_tiny_pose_model

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def pose_model(tmp_path_factory) -> PoseModel:
    folder = tmp_path_factory.mktemp("bundled") / model_choice.REAL_SOURCE_MODEL
    return PoseModel(export_tiny_pose_model(folder))


def _skeleton_only(count: int = 45) -> list[Frame]:
    return [Frame(f.index, f.timestamp, None, f.bodies) for f in (gui_frame(i, count) for i in range(count))]


def _prediction(model: PoseModel, frames: list[Frame]):
    recognizer = StreamRecognizer(model, lossless=True)
    return [p for frame in frames for p in recognizer.feed([frame])][-1]


def test_hand_tiles_show_each_hand_s_share_of_relevance_without_video(qtbot, pose_model) -> None:
    frames = _skeleton_only()
    prediction = _prediction(pose_model, frames)
    panel = HandPanel()
    qtbot.addWidget(panel)
    frame = frames[int(prediction.frame_indices[-1])]
    panel.show_view(WindowView(prepare_view(frame, None), prediction))
    step = len(prediction.frame_indices) - 1
    for slot, tile in enumerate(panel.tiles):
        assert tile.present and tile.crop is None  # no video: no crop, but the hand's joints were read
        assert tile.weight == pytest.approx(float(prediction.spatial_attention[step, slot]))
        assert tile.note.text() == "relevance share"
    assert sum(tile.weight for tile in panel.tiles) <= 1.0 + 1e-6


def test_the_curve_is_named_relevance_over_time(qtbot, pose_model) -> None:
    frames = _skeleton_only()
    prediction = _prediction(pose_model, frames)
    curve = TemporalCurve()
    qtbot.addWidget(curve)
    curve.show_view(WindowView(prepare_view(frames[int(prediction.frame_indices[-1])], None), prediction))
    assert "relevance over time" in curve.plot.getPlotItem().titleLabel.text
    assert curve.plot.getPlotItem().getAxis("left").labelText == "relevance"
    _times, y = curve.curve_data()
    np.testing.assert_allclose(y, prediction.temporal_attention)


def test_the_skeleton_s_joints_are_tinted_by_relevance(pose_model) -> None:
    frames = _skeleton_only()
    prediction = _prediction(pose_model, frames)
    frame = frames[int(prediction.frame_indices[-1])]
    plain = render_overlay(frame, replace(prediction, joint_relevance=None), (640, 360))
    tinted = render_overlay(frame, prediction, (640, 360))
    assert prediction.joint_relevance is not None
    changed = np.abs(tinted.astype(int) - plain.astype(int)).sum(axis=2) > 0
    scale = 640 / 1920
    over_window = prediction.joint_relevance.sum(axis=0)  # 2 x 25: where, over the window
    slot, top_joint = np.unravel_index(int(np.argmax(over_window)), over_window.shape)
    body = next(b for b in frame.bodies if b.id == prediction.body_ids[slot])
    x, y = np.round(body.color_px[top_joint] * scale).astype(int)
    assert changed[y - 2 : y + 3, x - 2 : x + 3].all()  # the most relevant joint is painted over
    centres = np.round(body.color_px * scale).astype(int)
    painted = [bool(changed[y, x]) for x, y in centres]
    assert not all(painted)  # joints below the typical joint's relevance are not


def test_explain_names_body_parts_and_moment_as_relevance(qtbot, pose_model) -> None:
    frames = _skeleton_only()
    prediction = _prediction(pose_model, frames)
    sentence = explain_sentence(prediction)
    assert "Its relevance for that class was mostly the" in sentence and "of person" in sentence
    assert "looked" not in sentence and "attention" not in sentence
    assert streams_sentence(prediction).startswith("A pose-only model")
    dialog = ExplainDialog(prediction, FrameCache(10))
    qtbot.addWidget(dialog)
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    assert any("temporal relevance" in text for text in texts)
    assert not any("attention" in text for text in texts)


def test_relevance_on_her_right_hand_names_it(pose_model) -> None:
    frames = _skeleton_only()
    prediction = _prediction(pose_model, frames)
    joints = np.zeros_like(prediction.joint_relevance)
    joints[5, 0, list(RIGHT_HAND)] = 0.25
    focused = replace(prediction, joint_relevance=joints, temporal_attention=joints.sum(axis=(1, 2)))
    moment = float(prediction.timestamps[5])
    assert explain_sentence(focused).endswith(f"mostly the right hand of person 1, around {moment:.1f} s.")


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


def test_with_no_model_chosen_the_window_runs_each_source_s_default(qtbot, settings, pose_model, monkeypatch):
    monkeypatch.setattr(model_choice, "bundled_folder", lambda name: pose_model.folder.parent / name)
    real = gui_source(60)
    monkeypatch.setattr(model_choice, "synthetic_source", lambda reader: reader is not real)
    with shown_window(qtbot, settings) as window:
        window.set_source(real)
        window.load_model(None, None)
        qtbot.waitUntil(lambda: window.session.model is not None, timeout=10000)
        assert window.session.model.kind == POSE_MODEL_KIND
        assert "tiny pose test model (6 actions, pose only, relevance)" in window.windowTitle()
        window.set_source(gui_source(60))  # a synthetic clip: the demo model replaces the pose model
        qtbot.waitUntil(lambda: window.session.model.folder == default_model_folder(), timeout=20000)
        assert "attention" in window.windowTitle()


def test_the_models_menu_lists_the_bundled_and_the_taught_models(
    qtbot, settings, pose_model, tmp_path
) -> None:
    taught = tmp_path / "taught"
    export_tiny_pose_model(taught / "taught 2026-12-07 101500")
    (taught / "not a model").mkdir()
    settings.setValue("teach_models_folder", str(taught))
    with shown_window(qtbot, settings) as window:
        groups = dict(window._model_groups())
        menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Model")
        models = next(a.menu() for a in menu.actions() if a.menu() is not None and a.text() == "&Models")
        models.aboutToShow.emit()
        entries = [action.text() for action in models.actions() if not action.isSeparator()]
    assert {"demo", "shiftgcn-ntu120-xsub", "shiftgcn-ntu60-xsub"} <= {f.name for f in groups["Bundled"]}
    assert [f.name for f in groups["Taught"]] == ["taught 2026-12-07 101500"]
    assert "taught 2026-12-07 101500" in entries and "demo" in entries


def test_a_pose_only_model_offers_no_streams_to_show_apart(qtbot, pose_model) -> None:
    from sta_hands.app.gui.top_classes import TopClasses

    top = TopClasses()
    qtbot.addWidget(top)
    top.show()
    top.streams.setChecked(True)
    top.show_view(WindowView(None, _prediction(pose_model, _skeleton_only())))
    assert not top.streams.isVisible()
    assert not any(row.pose_bar.isVisible() or row.rgb_bar.isVisible() for row in top.rows)
