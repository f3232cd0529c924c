"""The annotated video export: the replay with the window's overlays, as Motion-JPEG in an AVI.

Each frame is drawn by `drawing.render_annotated` (the video view's overlay plus a strip with the top
class and the attention bars); the predictions come from a fresh lossless `StreamRecognizer`, so
every frame shows the prediction of the window ending at it. Runs in a worker thread
(`ExportThread`) with progress and cancel; `VideoExport` is the window's side of it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

import cv2
from PyQt5.QtCore import QObject, pyqtBoundSignal, pyqtSignal
from PyQt5.QtWidgets import QProgressBar

from sta_hands.app.gui.drawing import render_annotated
from sta_hands.app.model import Model
from sta_hands.app.recognizer import Prediction, StreamRecognizer
from sta_hands.app.replay import replay
from sta_hands.app.worker import Worker
from sta_hands.contract.errors import UserError
from sta_hands.contract.reader import Reader

log = logging.getLogger(__name__)

EXPORT_WIDTH = 960


def export_annotated_video(
    source: Reader,
    model: Model | None,
    path: str | Path,
    *,
    width: int = EXPORT_WIDTH,
    progress: Callable[[int, int | None], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Write `source` from its first frame, annotated, to `path` (AVI, MJPG); the frames written."""
    path = Path(path)
    recognizer = StreamRecognizer(model, lossless=True) if model is not None else None
    prediction: Prediction | None = None
    writer: cv2.VideoWriter | None = None
    written = 0
    try:
        for frame, predictions in replay(source, recognizer):
            if cancelled is not None and cancelled():
                break
            prediction = predictions[-1] if predictions else prediction
            image = render_annotated(frame, prediction, width)
            if writer is None:
                writer = _open_writer(path, source.fps, (image.shape[1], image.shape[0]))
            writer.write(image)
            written += 1
            if progress is not None:
                progress(written, source.num_frames)
    finally:
        if writer is not None:
            writer.release()
    if written == 0:
        raise UserError(f"{path}: nothing to export, the source has no frames")
    return written


def _open_writer(path: Path, fps: float, size: tuple[int, int]) -> cv2.VideoWriter:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps if fps > 0 else 30.0, size)
    if not writer.isOpened():
        raise UserError(f"{path}: cannot write an MJPG AVI here (is the folder writable?)")
    return writer


class ExportThread(Worker):
    """Runs `export_annotated_video` in a thread; callbacks are called from that thread."""

    def __init__(
        self,
        source: Reader,
        model: Model | None,
        path: str | Path,
        *,
        on_progress: Callable[[int, int | None], None],
        on_done: Callable[[Path, int], None],
        on_error: Callable[[str], None],
        width: int = EXPORT_WIDTH,
    ) -> None:
        self.source, self.model, self.path, self.width = source, model, Path(path), width
        self.on_progress, self.on_done, self.on_error = on_progress, on_done, on_error
        super().__init__("export")

    def cancel(self) -> None:
        self.stop(timeout=0)

    def _run(self) -> None:
        try:
            count = export_annotated_video(
                self.source, self.model, self.path, width=self.width,
                progress=self.on_progress, cancelled=lambda: self.stopping,
            )  # fmt: skip
        except Exception as error:
            log.exception("export to %s failed", self.path)
            self.on_error(f"export {self.path.name}: {error}")
        else:
            self.on_done(self.path, count)


class VideoExport(QObject):
    """The window's side of an annotated-video export: one `ExportThread` at a time, its results as typed
    signals queued to the GUI thread, a progress bar in the status bar and a cancel action."""

    progressed = pyqtSignal(int, int)  # frames written, frames in the source (0: unknown)
    finished = pyqtSignal(str, int)  # path, frames written
    failed = pyqtSignal(str)  # one line for the user

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread: ExportThread | None = None
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setFormat("export %p%")
        self.progress.hide()
        self.progressed.connect(self._show_progress)
        self.finished.connect(self._done)
        self.failed.connect(self._done)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.running

    def start(self, source: Reader, model: Model | None, path: str | Path) -> None:
        """Export in a worker thread; `finished` or `failed` follows. The caller checks `running` first."""
        self.progress.setValue(0)
        self.progress.show()
        self.thread = ExportThread(
            source, model, path,
            on_progress=lambda done, total: self._post(self.progressed, done, total or 0),
            on_done=lambda out, frames: self._post(self.finished, str(out), frames),
            on_error=lambda message: self._post(self.failed, message),
        ).start()  # fmt: skip

    def cancel(self) -> None:
        if self.thread is not None:
            self.thread.cancel()

    def join(self, timeout: float | None = None) -> None:
        """Wait for a running export to end (after `cancel`, at exit)."""
        if self.thread is not None:
            self.thread.join(timeout)

    def _post(self, signal: pyqtBoundSignal, *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the window is gone
            signal.emit(*args)

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    def _done(self, *_: object) -> None:
        self.progress.hide()
