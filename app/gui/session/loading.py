"""`Loading`: what the session opens in worker threads, a source by its spec and a model folder of any
kind, so that the GUI thread never waits on a file or a model; the latest request of each wins. Results
reach the session's thread by Qt signals, queued there (`worker_signals.post`).

With no model chosen by the user, the model is the default for the source (`app.model_choice`: the demo
model for synthetic clips, the pretrained pose model for real ones), chosen again for each new source.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PyQt5.QtCore import QObject, pyqtSignal

from sta_hands.app.gui.worker_signals import post
from sta_hands.contract.reader import Reader

log = logging.getLogger(__name__)


class Loading(QObject):
    source_opened = pyqtSignal(object)  # Reader: the spec opened last
    open_failed = pyqtSignal(str)  # one line for the user
    model_loaded = pyqtSignal(object)  # an `app.model.Model`: of the folder asked for last
    model_failed = pyqtSignal(str)  # why
    _source_posted = pyqtSignal(int, object)  # open token, Reader

    def __init__(
        self, start_thread: Callable[[str, Callable[[], None]], None], parent: QObject | None = None
    ) -> None:
        """`start_thread(name, work)`: runs `work` in a worker thread its owner waits for at exit."""
        super().__init__(parent)
        self.default_model = True  # no model chosen: the default for each source (`load_model(None)`)
        self.model_folder: Path | None = None  # the folder loaded last (or loading)
        self.provider: str | None = None
        self._start_thread = start_thread
        self._open_token = 0
        self._source_posted.connect(self._on_source_posted)

    def open(self, spec: str) -> None:
        """Open `spec` (a path, 'demo', 'synthetic', ...); `source_opened` or `open_failed` follows."""
        from sta_hands.recordings.sources import open_reader

        self._open_token += 1
        token = self._open_token

        def work() -> None:
            try:
                source = open_reader(spec)
            except Exception as error:  # any reader's failure becomes a message, never a crash
                log.warning("cannot open %s: %s", spec, error, exc_info=log.isEnabledFor(logging.DEBUG))
                post(self, Loading.open_failed, f"Cannot open {spec}: {error}")
            else:
                post(self, Loading._source_posted, token, source)

        self._start_thread("open-source", work)

    def load_model(self, folder: str | Path | None, provider: str | None, source: Reader | None) -> None:
        """Load a model folder of any kind; None: the default for `source`, chosen again whenever another
        source opens (`default_for`). `model_loaded` or `model_failed` follows."""
        from sta_hands.app.model_choice import default_model_folder_for, open_model

        self.default_model = folder is None
        self.provider = provider
        chosen = Path(folder or default_model_folder_for(source))
        self.model_folder = chosen

        def work() -> None:
            try:
                model = open_model(chosen, provider=provider)
                if chosen != self.model_folder:
                    return  # another load_model came after this one: its model wins
            except Exception as error:
                log.warning("model not loaded: %s", error, exc_info=log.isEnabledFor(logging.DEBUG))
                post(self, Loading.model_failed, str(error))
            else:
                post(self, Loading.model_loaded, model)

        self._start_thread("load-model", work)

    def default_for(self, source: Reader) -> None:
        """With no model chosen by the user, the default for `source` replaces another source's default."""
        from sta_hands.app.model_choice import default_model_folder_for

        if self.default_model and self.model_folder not in (None, default_model_folder_for(source)):
            self.load_model(None, self.provider, source)

    def _on_source_posted(self, token: int, source: Reader) -> None:
        if token == self._open_token:  # a source opened later wins
            self.source_opened.emit(source)
