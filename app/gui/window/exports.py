"""`WindowExports`: what File > Save screenshot, Export annotated video and Cancel export do: ask where
(starting in the last folder used), save, and say how it went in the window's banner. The video itself
is written by `exporter.VideoExport` in a worker thread."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PyQt5.QtCore import QSettings
from PyQt5.QtWidgets import QAction, QFileDialog, QWidget

from sta_hands.app.gui.exporter import VideoExport
from sta_hands.app.gui.session.session import Session


class WindowExports:
    def __init__(
        self,
        window: QWidget,
        session: Session,
        settings: QSettings,
        notice: Callable[[str], None],
        problem: Callable[[str], None],
    ) -> None:
        self.window, self.session, self.settings = window, session, settings
        self.notice, self.problem = notice, problem
        self.video = VideoExport(window)
        self.video.finished.connect(self._on_exported)
        self.video.failed.connect(self._on_failed)
        self.cancel_action = QAction("Cancel export", window)  # enabled while an export runs
        self.cancel_action.setEnabled(False)
        self.cancel_action.triggered.connect(lambda _checked=False: self.video.cancel())

    def screenshot(self, path: str | Path) -> bool:
        """Save the whole window as a PNG at `path`; False (and the reason in the banner) if it cannot."""
        path = Path(path)
        if not self.window.grab().save(str(path), "PNG"):
            self.problem(f"Cannot save the screenshot to {path}")
            return False
        self.notice(f"Screenshot saved: {path}")
        return True

    def choose_screenshot(self) -> None:
        path = self._choose_save(
            "Save a screenshot", f"sta-hands-{datetime.now():%Y%m%d-%H%M%S}.png", "PNG (*.png)"
        )
        if path:
            self.screenshot(path)

    def annotated_video(self, path: str | Path) -> None:
        """Export the replay with the overlays to an AVI in a worker thread (progress in the status bar)."""
        source = self.session.source
        if source is None:
            self.problem("Nothing to export: open a source first")
            return
        if self.video.running:
            self.problem("An export is already running")
            return
        self.cancel_action.setEnabled(True)
        self.video.start(source, self.session.model, path)

    def choose_annotated_video(self) -> None:
        path = self._choose_save("Export the annotated video", "sta-hands-annotated.avi", "AVI (*.avi)")
        if path:
            self.annotated_video(path)

    def _on_exported(self, out: str, frames: int) -> None:
        self.cancel_action.setEnabled(False)
        self.notice(f"Annotated video saved: {out} ({frames} frames)")

    def _on_failed(self, message: str) -> None:
        self.cancel_action.setEnabled(False)
        self.problem(message)

    def _choose_save(self, title: str, name: str, filter_: str) -> str:
        folder = Path(str(self.settings.value("last_folder", "") or Path.home()))
        path, _ = QFileDialog.getSaveFileName(self.window, title, str(folder / name), filter_)
        if path:
            self.settings.setValue("last_folder", str(Path(path).parent))
        return path
