"""The window against what it does not control (issue 23): class names from a model folder shown as plain
text, an exception in a slot reported instead of aborting, and a model that loads before the first frame
is shown (the start-up that `sta-hands bench` saw hang)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PyQt5.QtCore import QSettings

from tests.app.conftest import gui_source, shown_window

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path):
    with shown_window(qtbot, QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)) as w:
        yield w


def test_a_model_loaded_before_the_first_frame_is_shown_predicts(window, qtbot, fake_model) -> None:
    """The demo's start: the source plays at once and the model arrives from its loading thread. When it
    arrived before the window had drawn a frame, the replay went on without a recognizer and no prediction
    ever came (the bench's start-up child waited 120 s for one)."""
    window.set_source(gui_source(40))
    assert window.session.position == -1  # no frame drawn yet
    with qtbot.waitSignal(window.session.prediction_ready, timeout=5000):
        window.set_model(fake_model)


HOSTILE_CLASSES = (  # what a model folder's metadata may name its classes: Qt would render these tags
    "<b>drink</b> from cup",
    "<img src='/nonexistent/x.png'> answer phone",
    "wave<br>left hand",
    "<i>wave right hand</i>",
    "<a href='http://example.invalid'>handshake</a>",
)


def test_class_names_from_a_model_folder_are_shown_as_written(window, qtbot, fake_model) -> None:
    from PyQt5.QtCore import Qt
    from PyQt5.QtGui import QTextDocument
    from PyQt5.QtWidgets import QLabel

    fake_model.info = dataclasses.replace(fake_model.info, class_names=HOSTILE_CLASSES)
    window.set_model(fake_model)
    with qtbot.waitSignal(window.session.prediction_ready, timeout=5000):
        window.set_source(gui_source(40))
    qtbot.waitUntil(lambda: window.top.prediction is not None, timeout=2000)
    dialog = window.explain()
    assert dialog is not None
    labels = [*window.findChildren(QLabel), *dialog.findChildren(QLabel)]
    named = [label for label in labels if any(name in label.text() for name in HOSTILE_CLASSES)]
    assert len(named) >= 5, [label.text() for label in labels]  # the five rows, the winner, the sentence
    rich = [label.text() for label in labels if "<" in label.text() and label.textFormat() != Qt.PlainText]
    assert rich == []
    tooltips = [row.name.toolTip() for row in window.top.rows if row.name.text()]
    assert tooltips
    for tooltip, row in zip(tooltips, [row for row in window.top.rows if row.name.text()], strict=True):
        document = QTextDocument()
        document.setHtml(tooltip)
        assert document.toPlainText() == row.name.text()  # the tooltip shows the name as written


def test_the_rename_prompt_shows_an_example_s_name_as_written(qtbot) -> None:
    """The Teach panel's Rename question names the example's file; a tag in that name is shown, not read."""
    from PyQt5.QtCore import Qt
    from PyQt5.QtWidgets import QLabel

    from sta_hands.app.gui.widgets import plain_text_dialog

    name = "<img src='/nonexistent/x.png'><b>wave</b>"
    dialog = plain_text_dialog(None, "Rename", f"Action of {name}:", "wave")
    qtbot.addWidget(dialog)
    labels = [label for label in dialog.findChildren(QLabel) if name in label.text()]
    assert labels and all(label.textFormat() == Qt.PlainText for label in labels)
    assert dialog.textValue() == "wave"


SLOT_RAISES = """
import sys, time
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication
import sta_hands.app.gui.launch as launch

app = QApplication(sys.argv[:1])
started = time.monotonic()

def window():
    return next(w for w in app.topLevelWidgets() if isinstance(w, launch.MainWindow))

def boom(model):
    raise ValueError("a slot failed on purpose")

def report():
    if window().banner.kind != "error" and time.monotonic() - started < 30:
        QTimer.singleShot(100, report)
        return
    print("BANNER " + window().banner.text(), flush=True)
    app.exit(0)

QTimer.singleShot(0, lambda: window().session.model_changed.connect(boom))  # raises as the model arrives
QTimer.singleShot(0, report)
before = sys.excepthook
code = launch.launch_gui(None, None, None)
print("EXIT", code, "HOOK RESTORED", sys.excepthook is before, flush=True)
"""


def test_an_exception_in_a_slot_is_a_banner_and_a_log_line_not_an_abort(tmp_path: Path) -> None:
    """The window as `sta-hands run` starts it (`launch_gui`), in a child process: a slot connected to the
    session's `model_changed` raises when the demo model arrives; the window goes on and says what its
    banner shows. (PyQt5 aborts on such an error while `sys.excepthook` is Python's own; pyqtgraph's
    import replaces it with one that only prints, so before the hook the banner stayed empty and the log
    had nothing.)"""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    repo = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-c", SLOT_RAISES]
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    banner = next(line for line in done.stdout.splitlines() if line.startswith("BANNER "))
    assert "Unexpected error" in banner and "ValueError: a slot failed on purpose" in banner
    assert "EXIT 0 HOOK RESTORED True" in done.stdout
    assert "unexpected error in the window: a slot failed on purpose" in done.stderr  # the log line
    assert "Traceback" in done.stderr and "in boom" in done.stderr  # with where it happened
