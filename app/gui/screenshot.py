"""`python -m app.gui.screenshot OUT.png`: the real window on a source, saved as a PNG once it has run.

Used for README's screenshot; under Xvfb: `xvfb-run -s "-screen 0 1920x1080x24" python -m
app.gui.screenshot docs/screenshot.png`. Settings go to a temporary file, not the user's. `--explain`
saves the "Explain this moment" dialog on the first full window instead of the window (docs/images.md).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PyQt5.QtCore import QSettings, QTimer
from PyQt5.QtWidgets import QApplication

from app.gui.main_window import MainWindow
from app.gui.widgets import apply_theme


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="PNG file to write")
    parser.add_argument("--source", default="demo", help="what to open (default: the demo clip)")
    parser.add_argument("--model", help="model folder (default: the source's, app.model_choice)")
    parser.add_argument("--seconds", type=float, default=1.2, help="play this long before the shot")
    parser.add_argument("--size", default="1280x720", help="window size WxH (default 1280x720)")
    parser.add_argument("--explain", action="store_true", help="shoot the explain dialog instead")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    app = QApplication(sys.argv[:1])
    apply_theme(app)
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(QSettings(str(Path(tmp) / "settings.ini"), QSettings.IniFormat))
        window.resize(width, height)
        window.show()
        window.load_model(args.model, None)
        window.open_spec(args.source)
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
            if args.explain:
                dialog = window.explain()
                if dialog is not None:
                    dialog.adjustSize()
                    app.processEvents()
                    result["ok"] = dialog.grab().save(args.out)
            else:
                result["ok"] = window.export_screenshot(args.out)
            window.close()
            app.exit(0)

        QTimer.singleShot(int(args.seconds * 1000), shoot)
        app.exec_()
        window.session.shutdown(workers_timeout=3.0)
    print(f"wrote {args.out}" if result["ok"] else f"could not write {args.out}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
