"""`MainWindow`: wires the panels to the `Session`. A `QTimer` pulls the newest frame and redraws.

The central area's layout is `window_panels.WindowPanels`'s; the figures are in the status bar.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

from PyQt5 import sip
from PyQt5.QtCore import QByteArray, QSettings, Qt, QTimer
from PyQt5.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PyQt5.QtWidgets import QFileDialog, QMainWindow

from app.faithfulness_note import read_faithfulness
from app.gui.drawing import warm_up
from app.gui.explain import ExplainDialog
from app.gui.menus import add_action, add_model_list, add_provider_menu, add_source_menu, install_shortcuts
from app.gui.session import Session
from app.gui.status import LatencyMeter, RateMeter, Stats, StatusPanel
from app.gui.teach_dock import TeachDock, not_sure_below
from app.gui.window_exports import WindowExports
from app.gui.window_panels import RECORD, STOP_RECORDING, WindowPanels
from app.model import Model
from app.model_choice import bundled_models, model_folders
from app.recognizer import Prediction
from recordings.frame import Frame
from recordings.kinect_binding import kinect_status
from recordings.reader import Reader

log = logging.getLogger(__name__)

POLL_MS = 15  # the timer polls the display ring at about twice a 30 fps source's rate; draws new frames only
STATUS_EVERY = 16  # ticks between status-bar refreshes (about 4 per second)
OPEN_FILTER = "Clips, recordings and videos (*.skeleton *.avi *.jsonl *.xef *.mp4 *.mov *.mkv);;All files (*)"


def default_recordings_folder() -> Path:
    return Path.home() / "sta-hands recordings"


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, session: Session | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings("sta-hands", "sta-hands")
        self.session = session if session is not None else Session(self)
        self.frame: Frame | None = None
        self.prediction: Prediction | None = None
        self.explain_dialog: ExplainDialog | None = None
        self.exports = WindowExports(self, self.session, self.settings, self.show_notice, self.show_error)
        self.export = self.exports.video
        self.export_finished = self.export.finished  # path, frames
        self.frame_meter, self.prediction_meter, self.latency = RateMeter(), RateMeter(), LatencyMeter()
        self.display_latency = LatencyMeter()
        self._drawn_prediction: Prediction | None = None
        self._source_problem: str | None = None
        self._frames_in_seen = 0
        self._ticks = 0
        self._dirty = False
        self.setWindowTitle("sta-hands: which hand, and when")
        self.setAcceptDrops(True)
        warm_up()
        self._build_panels()
        self._build_menus()
        self._build_shortcuts()
        self._connect()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.timer.start(POLL_MS)
        self._restore_geometry()

    # ------------------------------------------------------------------------------------ building

    def _build_panels(self) -> None:
        panels = WindowPanels()
        self.setCentralWidget(panels)
        self.banner, self.video, self.transport = panels.banner, panels.video, panels.transport
        self.hands = panels.hands
        self.top, self.curve, self.explain_button = panels.top, panels.curve, panels.explain_button
        self.record_button, self.rec_indicator = panels.record_button, panels.rec_indicator
        self.status = StatusPanel()
        self.statusBar().addPermanentWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.export.progress)
        self.teach = TeachDock(self.session, self.settings, self)  # hidden until Model > Teach new actions
        self.addDockWidget(Qt.RightDockWidgetArea, self.teach)
        self.teach.hide()

    def _build_menus(self) -> None:
        menus = self.menuBar()
        file = menus.addMenu("&File")
        file.setToolTipsVisible(True)
        add_action(file, "&Open…", self.choose_file, QKeySequence.Open)
        add_action(file, "&Demo", lambda: self.open_spec("demo"))
        add_action(file, "&Synthetic clip", lambda: self.open_spec("synthetic"))
        self.kinect_action = add_action(file, "&Kinect v2 (live)", lambda: self.open_spec("kinect"))
        available, reason = kinect_status()
        self.kinect_action.setEnabled(available)
        self.kinect_action.setToolTip(reason)
        self.kinect_action.setStatusTip(reason)
        file.addSeparator()
        add_action(file, "Save &screenshot…", self.exports.choose_screenshot, "Ctrl+Shift+S")
        add_action(file, "Export annotated &video…", self.exports.choose_annotated_video, "Ctrl+Shift+E")
        add_action(file, "Open &model…", self.choose_model_folder)
        add_action(file, "Save model &as…", self.teach.save_model)
        self.cancel_export_action = self.exports.cancel_action
        file.addAction(self.cancel_export_action)
        file.addSeparator()
        add_action(file, "&Quit", self.close, QKeySequence.Quit)
        add_source_menu(self, menus, self.open_spec, self.open_path, self.settings)
        model = menus.addMenu("&Model")
        add_action(model, "Open model &folder…", self.choose_model_folder)
        add_action(model, "Use the &default model for the source", lambda: self._use_model_folder(""))
        add_model_list(self, model, self._model_groups, self._use_model_folder)
        model.addAction(self.teach.toggleViewAction())
        add_provider_menu(self, model, str(self.settings.value("provider", "") or ""), self._use_provider)
        view = menus.addMenu("&Replay")
        add_action(view, "Play / pause  (Space)", self.session.toggle)
        add_action(view, "Explain this moment  (E)", self.explain)
        add_action(view, "Record  (R)", self.toggle_recording)

    def _build_shortcuts(self) -> None:
        keys = {
            Qt.Key_Space: self.session.toggle,
            Qt.Key_Left: lambda: self.session.step(-1),
            Qt.Key_Right: lambda: self.session.step(1),
            Qt.Key_E: self.explain,
            Qt.Key_R: self.toggle_recording,
        }
        self.shortcuts = install_shortcuts(self, keys)

    def _connect(self) -> None:
        session = self.session
        session.prediction_ready.connect(self._on_prediction)
        session.source_changed.connect(self._on_source)
        session.model_changed.connect(self._on_model)
        session.playback_changed.connect(self._update_transport)
        session.error.connect(self.show_error)
        session.recording_finished.connect(self._on_recorded)
        self.transport.play_toggled.connect(session.toggle)
        self.transport.stepped.connect(session.step)
        self.transport.seeked.connect(session.seek)
        self.transport.speed_changed.connect(session.set_speed)
        self.transport.loop_changed.connect(session.set_loop)
        self.explain_button.clicked.connect(self.explain)
        self.record_button.clicked.connect(self.toggle_recording)
        teach = self.teach.panel
        teach.play_requested.connect(self.open_spec)
        teach.model_ready.connect(self._use_model_folder)
        teach.notice.connect(self.show_notice)
        teach.problem.connect(self.show_error)

    # --------------------------------------------------------------------------------- sources

    def open_spec(self, spec: str) -> None:
        """Open a source by spec (path, 'demo', 'synthetic'); it plays when ready, or an error shows."""
        self.banner.hide()
        self.video.set_placeholder(f"Opening {spec} …")
        self.session.open(spec)

    def open_path(self, path: str | Path) -> None:
        path = Path(path)
        self.settings.setValue("last_folder", str(path.parent))
        self.open_spec(str(path))

    def set_source(self, source: Reader) -> None:
        self.session.set_source(source)

    def choose_file(self) -> None:
        folder = str(self.settings.value("last_folder", "") or "")
        path, _ = QFileDialog.getOpenFileName(self, "Open a clip or a recording", folder, OPEN_FILTER)
        if path:
            self.open_path(path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_path(files[0])

    def _on_source(self, source: Reader) -> None:
        self.frame, self.prediction = None, None
        self.frame_meter.reset()
        self.prediction_meter.reset()
        self.latency.reset()
        self.display_latency.reset()
        self._source_problem = None
        self._frames_in_seen = self.session.frames_in
        self._update_title()
        self.video.set_placeholder("")
        self._dirty = True
        self._update_transport()

    # ----------------------------------------------------------------------------------- model

    def load_model(self, folder: str | Path | None, provider: str | None) -> None:
        """Load a model in the background; until then (or if it fails) the video plays without predictions."""
        self.session.load_model(folder, provider)

    def set_model(self, model: Model | None) -> None:
        self.session.set_model(model)

    def choose_model_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Open an exported model folder", str(self.settings.value("model_folder", "") or "")
        )
        if folder:
            self._use_model_folder(folder)

    def _update_title(self) -> None:
        """The window's title: the source, and which model runs and what it knows."""
        source, model = self.session.source, self.session.model
        named = [text for text in (source and source.description, model and model.describe()) if text]
        self.setWindowTitle(f"sta-hands: {' · '.join(named)}" if named else "sta-hands: which hand, and when")

    def _model_groups(self) -> list[tuple[str, list[Path]]]:
        """The Models menu: the bundled models, and the user's taught ones (the Teach panel's folder)."""
        return [("Bundled", bundled_models()), ("Taught", model_folders(self.teach.panel.models_folder))]

    def _use_model_folder(self, folder: str) -> None:
        self.settings.setValue("model_folder", folder)
        self.load_model(folder or None, str(self.settings.value("provider", "") or "") or None)

    def _use_provider(self, provider: str) -> None:
        self.settings.setValue("provider", provider)
        self.load_model(str(self.settings.value("model_folder", "") or "") or None, provider or None)

    def _on_model(self, model: Model | None) -> None:
        self.top.set_threshold(not_sure_below(model))
        if model is not None:
            self.show_notice(f"Model {model.describe()} on {model.provider}")
            self._update_title()
        self._dirty = True

    # ------------------------------------------------------------------------------- the timer

    def _tick(self) -> None:
        frame = self.session.tick()
        if frame is not None:
            self.frame = frame
            self._dirty = True
        frames_in = self.session.frames_in
        if frames_in > self._frames_in_seen:
            self.frame_meter.tick(frames_in - self._frames_in_seen)
        self._frames_in_seen = frames_in
        if self._dirty:
            self.redraw()
        self._ticks += 1
        if self._ticks % STATUS_EVERY == 0:
            self._update_status()

    def redraw(self) -> None:
        """Draw the current frame and prediction on every panel."""
        self._dirty = False
        frame, prediction = self.frame, self.prediction
        self.session.scaled.size = self.video.display_size()
        scaled = self.session.scaled.get(frame.index) if frame is not None else None
        self.video.display(frame, prediction, scaled)
        self.hands.display(frame, prediction)
        self.curve.display(prediction, frame.timestamp if frame is not None else None)
        self.top.display(prediction)
        self._update_transport()
        if prediction is not None and prediction is not self._drawn_prediction:
            self._drawn_prediction = prediction
            if prediction.captured_at:  # a replay recomputed after a seek has no live capture to time
                self.display_latency.add((time.perf_counter() - prediction.captured_at) * 1e3)

    def _on_prediction(self, prediction: Prediction) -> None:
        self.prediction = prediction
        self.prediction_meter.tick()
        self.latency.add(prediction.timings.age_ms)
        self._dirty = True

    def _update_transport(self) -> None:
        source = self.session.source
        if source is None:
            self.transport.display(-1, None, 30.0, False)
        else:
            self.transport.display(self.session.position, source.num_frames, source.fps, self.session.playing)

    def _update_status(self) -> None:
        session, model, prediction = self.session, self.session.model, self.prediction
        self._check_source()
        self.status.display(
            Stats(
                source=session.source.description if session.source is not None else "no source",
                frames_per_second=self.frame_meter.rate(),
                predictions_per_second=self.prediction_meter.rate(),
                latency_ms=self.latency.median(),
                display_latency_ms=self.display_latency.median(),
                frames_dropped=prediction.frames_dropped if prediction is not None else 0,
                windows_skipped=prediction.windows_skipped if prediction is not None else 0,
                provider=model.provider if model is not None else "",
                model=model.describe() if model is not None else "no model (video only)",
                source_problem=self._source_problem,
            )
        )
        recorder = session.recording
        self.record_button.setText(STOP_RECORDING if recorder is not None else RECORD)
        if recorder is None:
            self.rec_indicator.hide()
        else:
            seconds = int(recorder.seconds)
            self.rec_indicator.setText(f"● REC {seconds // 60:02d}:{seconds % 60:02d}")
            self.rec_indicator.show()

    # -------------------------------------------------------------------------------- messages

    def _check_source(self) -> None:
        """A live device in trouble (a Kinect unplugged or lost) shows in the banner, not only in the log."""
        source = self.session.source
        problem = source.problem() if source is not None else None
        if problem == self._source_problem:
            return
        if problem is not None:
            self.show_error(problem)
        elif self._source_problem is not None:
            self.show_notice(f"{source.description if source is not None else 'The source'} is back")
        self._source_problem = problem

    def show_error(self, message: str) -> None:
        log.error("%s", message)
        self.banner.show_message(message, "error")

    def show_notice(self, message: str) -> None:
        log.info("%s", message)
        self.banner.show_message(message, "info")

    # --------------------------------------------------------------------------------- explain

    def explain(self) -> ExplainDialog | None:
        """Pause and lay out the current window's frames with where and when the model looked."""
        self.session.pause()
        if self.prediction is None:
            self.show_notice("No prediction yet to explain: let the clip play for a moment.")
            return None
        self._close_explain()
        model = self.session.model
        faithfulness = read_faithfulness(model.folder) if model is not None else None
        trained_on = model.info.trained_on if model is not None else ""
        dialog = ExplainDialog(self.prediction, self.session.cache, self, faithfulness, trained_on)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.show()
        self.explain_dialog = dialog
        return dialog

    def _close_explain(self) -> None:
        if self.explain_dialog is not None and not sip.isdeleted(self.explain_dialog):
            self.explain_dialog.close()
        self.explain_dialog = None

    # ------------------------------------------------------------------------------- recording

    def toggle_recording(self) -> None:
        if self.session.recording is not None:
            self.stop_recording()
            return
        folder = Path(str(self.settings.value("recordings_folder", "") or default_recordings_folder()))
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self.show_error(f"Cannot record into {folder}: {error}")
            return
        self.start_recording(folder / f"rec-{datetime.now():%Y%m%d-%H%M%S}")

    def start_recording(self, stem: str | Path) -> None:
        self.session.start_recording(stem)
        if self.session.recording is not None:
            self._update_status()

    def stop_recording(self) -> None:
        self.session.stop_recording()
        self.record_button.setText(RECORD)
        self.rec_indicator.hide()

    def _on_recorded(self, stem: str, frames: int) -> None:
        self.show_notice(f"Recording saved: {stem}.jsonl ({frames} frames)")
        if self.session.recording is None:
            self.record_button.setText(RECORD)
            self.rec_indicator.hide()

    # --------------------------------------------------------------------------------- exports

    def export_screenshot(self, path: str | Path) -> bool:
        return self.exports.screenshot(path)

    def export_video(self, path: str | Path) -> None:
        self.exports.annotated_video(path)

    def cancel_export(self) -> None:
        self.export.cancel()

    # ---------------------------------------------------------------------------- settings, close

    def _restore_geometry(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 720)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        self.timer.stop()
        self.export.cancel()
        self.teach.panel.shutdown()
        self._close_explain()
        self.session.shutdown()
        super().closeEvent(event)
