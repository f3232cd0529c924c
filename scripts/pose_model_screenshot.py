"""The picture of a pose model's relevance for docs/: the real window on a skeleton file WITHOUT its video
(no NTU imagery may enter the repository), paused at a chosen frame, its prediction the window ending there.

    mkdir -p /tmp/skeleton-only && cp ../shared/samples/ntu/S001C001P001R001A001.skeleton /tmp/skeleton-only/
    xvfb-run -a -s "-screen 0 1920x1080x24" python scripts/pose_model_screenshot.py \\
        /tmp/skeleton-only/S001C001P001R001A001.skeleton docs/screenshot-pose-model.png --frame 90

The skeleton is copied alone so that the NTU reader finds no `_rgb.avi` beside it. With no `--model`,
the window runs the source's default (`app.model_choice`: the bundled Shift-GCN NTU-120 model for a real
file). Settings go to a temporary file, not the user's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PyQt5.QtCore import QSettings, QTimer
from PyQt5.QtWidgets import QApplication

from sta_hands.app.gui.main_window import MainWindow
from sta_hands.app.gui.widgets import apply_theme
from sta_hands.recordings.sources import open_reader


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="a skeleton file (copied alone: no video beside it)")
    parser.add_argument("out", help="PNG file to write")
    parser.add_argument("--frame", type=int, default=90, help="the frame to pause at (default 90)")
    parser.add_argument("--model", help="model folder (default: the source's default)")
    parser.add_argument("--size", default="1600x900", help="window size WxH (default 1600x900)")
    args = parser.parse_args(argv)
    source = open_reader(args.source)
    if source.describe().get("video") is not None:
        parser.error(f"{args.source} has a video beside it: copy the skeleton file alone")
    width, height = (int(v) for v in args.size.split("x"))
    app = QApplication(sys.argv[:1])
    apply_theme(app)
    result = {"ok": False}
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(QSettings(str(Path(tmp) / "settings.ini"), QSettings.IniFormat))
        window.resize(width, height)
        window.show()
        window.set_source(source)
        window.load_model(args.model, None)
        waits = iter(range(300))

        def model_ready() -> None:
            if window.session.model is None and next(waits, None) is not None:
                QTimer.singleShot(100, model_ready)
                return
            window.session.pause()
            window.session.seek(args.frame)
            QTimer.singleShot(200, shoot)

        def shoot() -> None:
            shown = window.prediction
            ended = shown is not None and 0 <= args.frame - int(shown.frame_indices[-1]) <= 3  # on its grid
            if not ended and next(waits, None) is not None:
                QTimer.singleShot(100, shoot)
                return
            window.redraw()
            result["ok"] = ended and window.export_screenshot(args.out)
            window.close()
            app.exit(0)

        QTimer.singleShot(500, model_ready)
        app.exec_()
        window.session.shutdown(workers_timeout=3.0)
    shown = window.prediction
    print(
        f"wrote {args.out}"
        if result["ok"]
        else f"could not write {args.out} (shown: {shown and shown.frame_indices[-1]})"
    )
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
