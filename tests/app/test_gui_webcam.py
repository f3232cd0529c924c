"""The window's Source menu: the webcam (a fake camera fed from a video file, a fake estimator) plays
with estimated bodies and predictions; a camera not there, or one that stops, is one line in the banner
and the window stays up."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

import sta_hands.recordings.sources
from sta_hands.app.gui.main_window import MainWindow
from sta_hands.recordings.camera.webcam import Webcam
from tests.app.conftest import gui_frame, shown_window
from tests.recordings.fake_camera import FakeCamera, FakeEstimator, write_video

pytestmark = pytest.mark.gui
COUNT = 60


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    frames = [gui_frame(i, COUNT, (320, 180)) for i in range(COUNT)]
    return write_video(tmp_path_factory.mktemp("gui_camera") / "camera.avi", frames), frames


@pytest.fixture
def window(qtbot, tmp_path: Path):
    with shown_window(qtbot, tmp_path / "settings.ini") as w:
        yield w


def _menu_action(window: MainWindow, menu: str, text: str):  # type: ignore[no-untyped-def]
    for top in window.menuBar().actions():
        if top.text().replace("&", "") == menu:
            for action in top.menu().actions():
                if action.text().replace("&", "") == text:
                    return action
    raise AssertionError(f"no {menu} > {text} in the menus")


def test_the_webcam_plays_with_estimated_bodies_and_a_stop_is_one_line(
    window, qtbot, fake_model, drawn, monkeypatch: pytest.MonkeyPatch
) -> None:
    video, frames = drawn
    camera = functools.partial(
        Webcam, capture_factory=lambda index: FakeCamera(video, fps=60.0), lost_after=0.3, retry_every=0.1
    )
    monkeypatch.setattr(sta_hands.recordings.sources, "open_webcam", camera)
    monkeypatch.setattr(
        sta_hands.recordings.sources, "bundled_estimator", lambda: FakeEstimator([f.bodies for f in frames])
    )
    window.set_model(fake_model)
    predictions = []
    window.session.prediction_ready.connect(predictions.append)
    _menu_action(window, "Source", "Webcam").trigger()
    qtbot.waitUntil(lambda: bool(predictions), timeout=10000)
    assert "webcam 0, mirrored, bodies estimated (fake estimator (tests))" in window.windowTitle()
    assert set(predictions[-1].body_ids) == {1, 2} and predictions[-1].hand_mask.any()
    qtbot.waitUntil(lambda: "stopped delivering frames" in window.banner.text(), timeout=10000)
    assert window.banner.kind == "error" and window.isVisible()
    assert "\n" not in window.banner.text()


def test_a_webcam_that_is_not_there_is_one_line_in_the_banner(
    window, qtbot, drawn, monkeypatch: pytest.MonkeyPatch
) -> None:
    video, _frames = drawn
    absent = functools.partial(Webcam, capture_factory=lambda index: FakeCamera(video, opens=False))
    monkeypatch.setattr(sta_hands.recordings.sources, "open_webcam", absent)
    _menu_action(window, "Source", "Webcam").trigger()
    qtbot.waitUntil(lambda: "cannot open the camera" in window.banner.text(), timeout=5000)
    assert window.banner.kind == "error" and window.isVisible()
    assert _menu_action(window, "Source", "Open video…").isEnabled()
