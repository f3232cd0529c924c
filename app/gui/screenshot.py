"""`take_screenshot`: the real window on a source, saved as a PNG once it has run (`python -m
sta_hands.commands.screenshot OUT.png`).

Used for README's screenshot; under Xvfb: `xvfb-run -s "-screen 0 1920x1080x24" python -m
sta_hands.commands.screenshot docs/screenshot.png`. Settings go to a temporary file, not the user's. With
`--explain` it saves the "Explain this moment" dialog on the first full window instead (docs/images.md).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PyQt5.QtCore import QSettings, QTimer
from PyQt5.QtWidgets import QApplication

from sta_hands.app.gui.main_window import MainWindow
from sta_hands.app.gui.widgets import apply_theme


def take_screenshot(
    out: str, source: str, model: str | None, seconds: float, size: tuple[int, int], explain: bool = False
) -> bool:
    """The window of `size` (width, height) on `source` with `model` (None: the source's), played for
    `seconds` (and up to 10 s more, until a full window is predicted), saved as the PNG `out`; with
    `explain`, the "Explain this moment" dialog on that window instead of the window (docs/images.md)."""
    width, height = size
    app = QApplication(sys.argv[:1])
    apply_theme(app)
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(QSettings(str(Path(tmp) / "settings.ini"), QSettings.IniFormat))
        window.resize(width, height)
        window.show()
        window.load_model(model, None)
        window.open_spec(source)
        result = {"ok": False}
        waits = iter(range(50))  # at most 10 s more for a full window (a clip shorter than one has none)

        def shoot() -> None:
            shown = window.session.prediction
            if (shown is None or shown.status == "partial") and next(waits, None) is not None:
                if not window.session.playing:
                    window.session.play()
                QTimer.singleShot(200, shoot)
                return
            window.session.pause()
            if explain:
                dialog = window.explain()
                if dialog is not None:
                    dialog.adjustSize()
                    app.processEvents()
                    result["ok"] = dialog.grab().save(out)
            else:
                result["ok"] = window.export_screenshot(out)
            window.close()
            app.exit(0)

        QTimer.singleShot(int(seconds * 1000), shoot)
        app.exec_()
        window.session.shutdown(workers_timeout=3.0)
    return result["ok"]
