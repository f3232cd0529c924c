"""`SessionRecording`: the session's recording of the frames its source plays (the app's own format,
written by a `RecorderThread`): start, the frames pushed, stop, and the writer's end or failure brought
to the GUI thread as signals."""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt5.QtCore import QObject, pyqtSignal

from sta_hands.app.gui.recorder import RecorderThread
from sta_hands.app.gui.worker_signals import post
from sta_hands.contract.frame import Frame
from sta_hands.contract.reader import Reader
from sta_hands.recordings.mirror import mirror_metadata

log = logging.getLogger(__name__)


class SessionRecording(QObject):
    finished = pyqtSignal(str, int)  # stem, frames written
    failed = pyqtSignal(str)  # one line for the user; the recording has stopped
    # from the recorder's thread, queued by Qt to this object's thread
    _done_posted = pyqtSignal(str, int)  # stem, frames written
    _failed_posted = pyqtSignal(object, str)  # the RecorderThread, why

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.recorder: RecorderThread | None = None  # the recording in progress
        self._done_posted.connect(self.finished)
        self._failed_posted.connect(self._on_failed)

    def start(self, source: Reader, stem: str | Path, metadata: dict | None = None) -> None:
        """Record what `source` plays from now on to `stem`; `metadata` joins the sidecar's header (e.g.
        the Teach panel's action name). Nothing happens while a recording is in progress."""
        if self.recorder is not None:
            return
        recorder = RecorderThread(
            stem, source.fps, device=source.description,
            metadata={"source": source.description, "recorded_by": "sta-hands gui",
                      **mirror_metadata(source), **(metadata or {})},
            on_error=lambda message: post(self, SessionRecording._failed_posted, recorder, message),
            on_done=lambda path, frames: post(self, SessionRecording._done_posted, str(path), frames),
        )  # fmt: skip
        self.recorder = recorder.start()
        log.info("recording to %s", stem)

    def push(self, frame: Frame) -> None:
        """From the capture thread: one more frame for the recording in progress, if any."""
        recorder = self.recorder
        if recorder is not None:
            recorder.push(frame)

    def stop(self, timeout: float = 0) -> None:
        """Stop taking frames; the writer finishes what is queued and closes the files in its thread
        (waited for up to `timeout` s; 0: not waited for)."""
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            recorder.stop(timeout)

    def _on_failed(self, recorder: RecorderThread, message: str) -> None:
        if recorder is self.recorder:  # it stopped by itself: not recording any more
            self.recorder = None
        self.failed.emit(message)
