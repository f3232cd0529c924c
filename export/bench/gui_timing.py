"""Two figures of `sta-hands bench` that need the real window, each taken in a fresh interpreter that
imports the app only (never torch), with Qt offscreen (or the display that is set, e.g. Xvfb):

- startup: from starting `sta-hands demo` (the process's spawn) to its first full-window prediction on
  screen (status "ok": a window that spans the model's `window_seconds` of the clip), with when the
  model had loaded and when the first prediction of any kind was drawn (`first_guess_s`: a "partial"
  window, classified on the few frames played so far).
- GUI latency: `MainWindow` replaying a clip at real time (the soak's GUI run, `app.soak.loop`) for some
  seconds: the latency from a frame leaving its source to its prediction drawn (the window's own
  on-screen meter, every value kept), and the frames drawn per second against the source's rate.

    python -m sta_hands.commands.gui_timing startup      (prints one JSON line; the parent takes the time)
    python -m sta_hands.commands.gui_timing latency MODEL CLIP SECONDS
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

STARTUP_TIMEOUT_S = 120.0


def _child_environment(config_home: str) -> dict[str, str]:
    """Qt offscreen unless a display is named; settings in an empty folder (no remembered model)."""
    env = dict(os.environ, XDG_CONFIG_HOME=config_home)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def _run_child(args: list[str], timeout: float) -> tuple[float, dict[str, Any]]:
    """(perf_counter just before the spawn, the child's last JSON line)."""
    with tempfile.TemporaryDirectory(prefix="sta-hands-gui-timing-") as config_home:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "sta_hands.commands.gui_timing", *args],
            env=_child_environment(config_home),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"gui_timing {args[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return started, json.loads(lines[-1])


def measure_startup(timeout: float = STARTUP_TIMEOUT_S) -> dict[str, Any]:
    """Seconds from spawning `sta-hands demo` to its first full-window prediction on screen (`startup_s`)
    and to its first prediction of any kind (`first_guess_s`, with its status), the demo model and clip."""
    started, child = _run_child(["startup"], timeout)
    return {
        "startup_s": child["first_full_window_at"] - started,
        "first_guess_s": child["first_prediction_at"] - started,
        "first_guess_status": child["first_status"],
        "startup_status": child["full_window_status"],
        "window_seconds": child["window_seconds"],  # the clip time one window spans
        "model_loaded_s": child["model_loaded_at"] - started if child["model_loaded_at"] else None,
        "torch_imported": child["torch_imported"],
    }


def measure_gui_latency(model_folder: str | Path, clip: str | Path, seconds: float = 20.0) -> dict[str, Any]:
    """The window replaying `clip` at real time with `model_folder` for `seconds`: latency percentiles
    (capture -> on screen) and the drawn frame rate against the source's."""
    _, child = _run_child(["latency", str(model_folder), str(clip), str(seconds)], seconds * 4 + 60)
    return child


# ------------------------------------------------------------------------------- in the child process


def probe_startup() -> dict[str, Any]:
    """Run `sta-hands demo` (commands.cli.main) until its first full-window prediction is drawn; when that and
    the first prediction of any kind happened."""
    from PyQt5.QtWidgets import QApplication

    import sta_hands.app.gui.launch as launch

    times: dict[str, Any] = {"model_loaded_at": None}

    class FirstPrediction(launch.MainWindow):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.session.prediction_ready.connect(self._first)
            self.session.model_changed.connect(self._loaded)

        def _loaded(self, model: Any) -> None:
            if model is not None and times["model_loaded_at"] is None:
                times["model_loaded_at"] = time.perf_counter()

        def _first(self, prediction: Any) -> None:
            if "first_prediction_at" in times and prediction.status != "ok":
                return
            self.prediction = prediction
            self.redraw()  # what the window's timer draws next: the prediction on screen
            now = time.perf_counter()
            if "first_prediction_at" not in times:
                times["first_prediction_at"], times["first_status"] = now, prediction.status
            if prediction.status == "ok":
                times["first_full_window_at"], times["full_window_status"] = now, prediction.status
                model = self.session.model
                times["window_seconds"] = model.info.window_seconds if model is not None else None
                QApplication.instance().exit(0)

    launch.MainWindow = FirstPrediction
    sys.argv = ["sta-hands", "demo"]
    try:  # `python -m sta_hands.commands demo`: the command as a user runs it
        runpy.run_module("sta_hands.commands", run_name="__main__", alter_sys=True)
    except SystemExit as done:  # what happens at exit is no part of the startup: said, not raised
        times["exit_code"] = done.code
    times["torch_imported"] = "torch" in sys.modules
    return times


def probe_latency(model_folder: str, clip: str, seconds: float) -> dict[str, Any]:
    """The soak's GUI run for `seconds`, with the window's on-screen latencies and drawn frames kept."""
    import sta_hands.app.gui.main_window as main_window
    import sta_hands.app.soak.loop as soak
    from sta_hands.recordings.sources import open_reader

    on_screen: list[float] = []
    drawn: list[tuple[float, int]] = []

    class Measured(main_window.MainWindow):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.figures.display_latency.add = on_screen.append  # every value, not the meter's last 30
            show = self.video.show_view

            def counted(view: Any) -> None:
                frame = view.frame
                if frame is not None and (not drawn or drawn[-1][1] != frame.index):
                    drawn.append((time.perf_counter(), frame.index))
                show(view)

            self.video.show_view = counted

    main_window.MainWindow = Measured  # the soak's GUI run imports it from there when it starts
    source = open_reader(clip)
    report = soak.run_soak(seconds / 60.0, model_folder, [source], gui=True)
    values = np.asarray(on_screen[len(on_screen) // 5 :])  # after the first fifth (caches filling)
    span = drawn[-1][0] - drawn[0][0] if len(drawn) > 1 else 0.0
    return {
        "gui_latency_ms_p50": float(np.percentile(values, 50)) if len(values) else None,
        "gui_latency_ms_p95": float(np.percentile(values, 95)) if len(values) else None,
        "predictions_on_screen": len(on_screen),
        "display_fps": (len(drawn) - 1) / span if span > 0 else None,
        "source_fps": float(source.fps),
        "frames_dropped": report["frames_dropped"],
        "windows_skipped": report["windows_skipped"],
        "errors": report["errors"],
        "torch_imported": "torch" in sys.modules,
    }
