"""`MainWindow`: wires the panels to the `Session`. A `QTimer` pulls the newest frame and redraws.

The panels are `window_panels.PANELS` (the central area's layout is `WindowPanels`'s; the figures are in
the status bar): a redraw builds one `WindowView` and hands it to each of them. The frame in it was
prepared off the GUI thread (`FrameView`): the window and its panels only paint.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from PyQt5 import sip
from PyQt5.QtCore import QByteArray, QSettings, Qt, QTimer
from PyQt5.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PyQt5.QtWidgets import QFileDialog, QMainWindow

from sta_hands.app.faithfulness_note import read_faithfulness
from sta_hands.app.gui.drawing import warm_up
from sta_hands.app.gui.explain import ExplainDialog
from sta_hands.app.gui.frame_view import FrameView
from sta_hands.app.gui.menus import (
    add_action,
    add_model_list,
    add_provider_menu,
    add_source_entries,
    add_source_menu,
    install_shortcuts,
)
from sta_hands.app.gui.session.session import Session
from sta_hands.app.gui.status import WindowFigures
from sta_hands.app.gui.window.exports import WindowExports
from sta_hands.app.gui.window.panels import PANELS, WindowPanels
from sta_hands.app.gui.window.view import Panel, Playback, Stats, WindowView
from sta_hands.app.model import Model
from sta_hands.app.model_choice import bundled_models, model_folders
from sta_hands.app.recognizer import Prediction
from sta_hands.contract.frame import Frame
from sta_hands.contract.reader import Reader
from sta_hands.recordings.sources import file_filter
from sta_hands.teach.gui.dock import TeachDock, not_sure_below

log = logging.getLogger(__name__)

POLL_MS = 15  # the timer polls the display ring at about twice a 30 fps source's rate; draws new frames only
STATUS_EVERY = 16  # ticks between status-bar refreshes (about 4 per second)


def default_recordings_folder() -> Path:
    return Path.home() / "sta-hands recordings"


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, session: Session | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings("sta-hands", "sta-hands")
        self.session = session if session is not None else Session(self)
        self.shown: FrameView | None = None  # the frame on screen, prepared off the GUI thread
        self.prediction: Prediction | None = None
        self.explain_dialog: ExplainDialog | None = None
        self.exports = WindowExports(self, self.session, self.settings, self.show_notice, self.show_error)
        self.export = self.exports.video
        self.export_finished = self.export.finished  # path, frames
        self.figures = WindowFigures()
        self._source_problem: str | None = None
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
        self.central = panels = WindowPanels()
        self.setCentralWidget(panels)
        named = panels.panels
        self.panels: tuple[Panel, ...] = tuple(named.values())  # type: ignore[arg-type]  # each a `Panel`
        self.video, self.transport, self.hands = named["video"], named["transport"], named["hands"]
        self.top, self.curve, self.status = named["top"], named["curve"], named["status"]
        self.banner, self.explain_button = panels.banner, panels.explain_button
        self.record_button, self.rec_indicator = panels.record_button, panels.rec_indicator
        for entry in PANELS:
            if entry.place == "status":
                self.statusBar().addPermanentWidget(named[entry.name], entry.stretch)
        self.statusBar().addPermanentWidget(self.export.progress)
        self.teach = TeachDock(self.session, self.settings, self)  # hidden until Model > Teach new actions
        self.addDockWidget(Qt.RightDockWidgetArea, self.teach)
        self.teach.hide()

    def _build_menus(self) -> None:
        menus = self.menuBar()
        file = menus.addMenu("&File")
        file.setToolTipsVisible(True)
        add_action(file, "&Open…", self.choose_file, QKeySequence.Open)
        sources = add_source_entries(self, file, "File", self.open_spec, self.open_path, self.settings)
        self.kinect_action = sources["kinect"]  # greyed out where the Kinect cannot open
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
        path, _ = QFileDialog.getOpenFileName(self, "Open a clip or a recording", folder, file_filter())
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

    @property
    def frame(self) -> Frame | None:
        """The frame on screen."""
        return self.shown.frame if self.shown is not None else None

    def _on_source(self, source: Reader) -> None:
        self.shown, self.prediction = None, None
        self.figures.reset(self.session.frames_in)
        self._source_problem = None
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
        shown = self.session.tick()
        if shown is not None:
            self.shown = shown
            self._dirty = True
        self.figures.frames_read(self.session.frames_in)
        if self._dirty:
            self.redraw()
        self._ticks += 1
        if self._ticks % STATUS_EVERY == 0:
            self._update_status()

    def redraw(self) -> None:
        """Show the current frame and prediction on every panel."""
        self._dirty = False
        self.session.view_size = self.video.display_size()  # the next frames are prepared at this size
        view = self.view()
        for panel in self.panels:
            panel.show_view(view)
        self.figures.drawn(view.prediction)

    def _on_prediction(self, prediction: Prediction) -> None:
        self.prediction = prediction
        self.figures.predicted(prediction)
        self._dirty = True

    def view(self, stats: Stats | None = None) -> WindowView:
        """What the panels show now (`stats`: the status bar's figures, when they are due)."""
        session, source = self.session, self.session.source
        playback = (
            Playback() if source is None
            else Playback(session.position, source.num_frames, source.fps, session.playing)
        )  # fmt: skip
        return WindowView(self.shown, self.prediction, playback, stats)

    def _update_transport(self) -> None:
        self.transport.show_view(self.view())

    def _update_status(self) -> None:
        session = self.session
        self._check_source()
        stats = self.figures.stats(session.source, session.model, self.prediction, self._source_problem)
        self.status.show_view(self.view(stats))
        self.central.show_recording(session.recording.seconds if session.recording is not None else None)

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
        self.central.show_recording(None)

    def _on_recorded(self, stem: str, frames: int) -> None:
        self.show_notice(f"Recording saved: {stem}.jsonl ({frames} frames)")
        if self.session.recording is None:
            self.central.show_recording(None)

    # --------------------------------------------------------------------------------- exports

    def export_screenshot(self, path: str | Path) -> bool:
        if self._dirty:  # a frame or prediction came since the last tick: save what is current, not before
            self.redraw()
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
