"""`launch_gui`: the window for `sta-hands run SOURCE` and `sta-hands demo`.

The model folder and provider come from the arguments, else from the remembered settings, else the
source's default (`app.model_choice`: the demo model for the demo and synthetic clips, the bundled
pose model for real sources). The model loads in the background; one that fails to load shows a message and
the window still plays the video, without predictions.
"""

from __future__ import annotations

import logging
import sys

from PyQt5.QtCore import QSettings
from PyQt5.QtWidgets import QApplication

from sta_hands.app.gui.main_window import MainWindow
from sta_hands.app.gui.slot_errors import slot_errors_reported
from sta_hands.app.gui.widgets import apply_theme
from sta_hands.contract.reader import Reader

log = logging.getLogger(__name__)


def settings() -> QSettings:
    return QSettings("sta-hands", "sta-hands")


def launch_gui(
    source_spec: str | None, model_folder: str | None, provider: str | None, source: Reader | None = None
) -> int:
    """Show the main window, open `source` or `source_spec` (if any), run the Qt event loop; its exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("sta-hands")
    app.setOrganizationName("sta-hands")
    apply_theme(app)
    remembered = settings()
    window = MainWindow(remembered)
    window.show()
    folder = model_folder or str(remembered.value("model_folder", "") or "") or None
    chosen_provider = provider or str(remembered.value("provider", "") or "") or None
    if source is not None:  # first, so that with no model named the source's default loads (app.model_choice)
        window.set_source(source)
    window.load_model(folder, chosen_provider)
    if source is None and source_spec:
        window.open_spec(source_spec)
    with slot_errors_reported(lambda line: window.banner.show_message(line, "error")):
        code = app.exec_()
    window.session.shutdown(workers_timeout=3.0)  # let no worker die inside the model at exit
    if window.export is not None:
        window.export.cancel()
        window.export.join(3.0)
    return code
