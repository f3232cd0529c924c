"""The one live pipeline (`app.pipeline`): its display stage keeps every frame and prepares the newest off
the GUI thread, its end comes after the last frame is ready to show; the window only paints what was
prepared (`FrameView`), and every panel takes the same `WindowView`."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from sta_hands.app.gui import frame_view
from sta_hands.app.gui.drawing import frame_hands, hand_views, paint_overlay
from sta_hands.app.gui.frame_view import prepare_view
from sta_hands.app.pipeline import Display, LivePipeline, run_live
from sta_hands.app.recognizer import StreamRecognizer
from sta_hands.contract.reader import read
from tests.app.conftest import FakeModel, gui_frame, gui_source


def test_the_display_stage_keeps_every_frame_and_hands_over_the_newest_prepared() -> None:
    source = gui_source(30)
    kept: list[int] = []
    prepared_in: list[str] = []

    def prepare(frame) -> int:
        prepared_in.append(threading.current_thread().name)
        return frame.index * 10

    pipeline = LivePipeline(  # paced as a window plays it (unpaced, frames beyond the display ring are lost)
        source, read(source), None, paced=True, speed=3.0, on_prediction=lambda p: None,
        on_error=lambda m: None, display=Display(prepare, keep=lambda frame: kept.append(frame.index)),
    )  # fmt: skip
    pipeline.join()
    event = pipeline.ended()
    assert event is not None and event.kind == "end" and event.frames_read == 30
    assert pipeline.ended() is None  # given once
    shown = pipeline.shown()
    assert shown is not None and shown.frame.index == 29 and shown.screen == 290
    assert kept == list(range(30))  # every frame, for the "explain" thumbnails
    assert set(prepared_in) == {"display"} and len(prepared_in) <= 30


def test_a_live_run_classifies_through_the_pipeline_and_counts_what_the_recognizer_missed() -> None:
    predictions = []
    recognizer = StreamRecognizer(FakeModel(), lossless=False)
    error = run_live(gui_source(60), recognizer, predictions.append, speed=20.0)
    assert error is None and predictions
    assert recognizer.frames_seen + recognizer.frames_dropped == 60


def test_painting_a_prepared_view_uses_its_scaled_image_and_its_hand_places() -> None:
    frame = gui_frame(3, 40, (1280, 720))
    view = prepare_view(frame, (640, 360))
    assert view.image is not None and view.image_size == (640, 360)
    assert [h.box() for h in hand_views(view, None)] == [h.box() for h in frame_hands(frame, None)]
    marked = prepare_view(frame, (640, 360))
    object.__setattr__(marked, "image", np.full_like(view.image, 255))  # a white prepared image
    painted = paint_overlay(marked, None, (640, 360))
    assert (painted == 255).all(axis=2).mean() > 0.5  # painted on the prepared image, not a new scaling
    assert view.image.min() < 255  # the clip itself is not white


@pytest.mark.gui
def test_the_gui_thread_only_paints(qtbot, monkeypatch, tmp_path) -> None:
    from PyQt5.QtCore import QSettings

    from tests.app.conftest import shown_window

    threads: set[str] = set()
    for name in ("crop_side", "hand_crop", "select_main_bodies", "scaled_image"):
        work = getattr(frame_view, name)

        def watched(*args, _work=work, **kwargs):
            threads.add(threading.current_thread().name)
            return _work(*args, **kwargs)

        monkeypatch.setattr(frame_view, name, watched)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    with shown_window(qtbot, settings) as window:
        window.set_model(FakeModel())
        window.set_source(gui_source(40, size=(1280, 720)))
        qtbot.waitUntil(lambda: window.prediction is not None and window.frame is not None, timeout=5000)
        qtbot.waitUntil(lambda: not window.session.playing, timeout=5000)
        window.redraw()
        assert window.video.image_shape is not None
        assert all(tile.present for tile in window.hands.tiles[:2])
    assert threads and threading.main_thread().name not in threads, threads


@pytest.mark.gui
def test_a_panel_is_one_entry_it_is_laid_out_and_shown_the_same_view(qtbot, monkeypatch, tmp_path) -> None:
    from PyQt5.QtWidgets import QLabel

    from sta_hands.app.gui.window import panels as window_panels
    from sta_hands.app.gui.window.view import WindowView
    from tests.app.conftest import shown_window

    class FrameNumber(QLabel):
        def __init__(self) -> None:
            super().__init__()
            self.views: list[WindowView] = []

        def show_view(self, view: WindowView) -> None:
            self.views.append(view)
            self.setText("" if view.frame is None else str(view.frame.index))

    entry = window_panels.PanelEntry("frame_number", FrameNumber, "right")
    monkeypatch.setattr(window_panels, "PANELS", (*window_panels.PANELS, entry))
    with shown_window(qtbot, tmp_path / "settings.ini") as window:
        panel = window.central.panels["frame_number"]
        assert panel.isVisible() and panel in window.panels
        window.set_source(gui_source(20))
        qtbot.waitUntil(lambda: window.frame is not None and window.frame.index >= 5, timeout=5000)
        window.redraw()
        assert panel.text() == str(window.frame.index)
        assert panel.views[-1].shown is window.shown  # the very view the other panels were given
