"""`launch_gui`: the window `sta-hands demo` and `run` open, from start to a clean exit."""

from __future__ import annotations

import pytest
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication

from sta_hands.app.gui.launch import launch_gui
from sta_hands.app.gui.main_window import MainWindow

pytestmark = pytest.mark.gui


def test_the_window_opens_plays_and_closing_it_exits_cleanly(qapp, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no remembered model or provider
    seen: list[MainWindow] = []

    def close_when_playing() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if windows and windows[0].frame is not None:
            seen.append(windows[0])
            windows[0].close()  # the last window closed: the event loop ends
        else:
            QTimer.singleShot(100, close_when_playing)

    QTimer.singleShot(100, close_when_playing)
    assert launch_gui("demo", model_folder=None, provider=None) == 0
    assert seen and not seen[0].session.playing
