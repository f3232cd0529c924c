"""`Session`: the controller between a source, the worker threads and the window. It draws nothing.

It owns the `Reader`, the live pipeline of the current stretch of playback (`app.pipeline.LivePipeline`:
capture, recognizer and display threads; a stretch runs from some frame until a pause, a seek or the
end), the recent-frames cache for "explain", and the recorder. What the screen needs of a frame is
prepared off the GUI thread (`frame_view.prepare_view`, in the pipeline's display thread or the recompute
worker): the window's timer takes the newest `FrameView` from `tick` and only paints. Predictions reach
the GUI thread by Qt signals carrying the immutable `Prediction`s: each kind of result a worker hands over
has a typed signal of its own, which Qt queues to the thread the session lives in. Nothing here waits on
a model or a file in the GUI thread: opening a source, loading a model, and recomputing the prediction
after a seek all run in worker threads. The recording is a `session_recording.SessionRecording`, the
recompute after a seek `recompute.recompute`.

Replay generations: each seek, pause or new source starts a new generation; what a worker posts
carries the generation it was started in, and anything from an older one is dropped, so a slow
worker of a past position can never overwrite the present.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QObject, pyqtSignal

from sta_hands.app.capture import CaptureEvent
from sta_hands.app.gui.frame_cache import FrameCache
from sta_hands.app.gui.frame_view import FrameView, prepare_view
from sta_hands.app.gui.recompute import Recomputed, recompute
from sta_hands.app.gui.recorder import RecorderThread
from sta_hands.app.gui.session.loading import Loading
from sta_hands.app.gui.session.recording import SessionRecording
from sta_hands.app.gui.worker_signals import post
from sta_hands.app.hand_glimpses import still_threshold_for
from sta_hands.app.model import Model
from sta_hands.app.pipeline import Display, LivePipeline, windowed_frames
from sta_hands.app.recognizer import Prediction, RecognizerThread, StreamRecognizer
from sta_hands.app.worker import Workers
from sta_hands.contract.frame import Frame
from sta_hands.contract.reader import Reader

log = logging.getLogger(__name__)

ANY_GENERATION = -1  # for what a worker posts that is not tied to a replay position


class Session(QObject):
    prediction_ready = pyqtSignal(object)  # Prediction
    source_changed = pyqtSignal(object)  # Reader
    model_changed = pyqtSignal(object)  # the model, or None
    playback_changed = pyqtSignal()  # playing, position jumps, end of the source
    error = pyqtSignal(str)  # one line for the user
    recording_finished = pyqtSignal(str, int)  # stem, frames written
    # from worker threads, queued by Qt to the session's thread; a generation of -1 is always current
    _prediction_posted = pyqtSignal(int, object)  # generation, Prediction
    _recomputed_posted = pyqtSignal(int, object, object)  # generation, Recomputed, its FrameView or None
    _error_posted = pyqtSignal(int, str)  # generation, one line for the user

    def __init__(self, parent: QObject | None = None, cache_capacity: int = 240) -> None:
        super().__init__(parent)
        self.source: Reader | None = None
        self.model: Model | None = None
        self.playing = False
        self.speed: float | None = 1.0  # None: as fast as possible
        self.loop = False
        self.position = -1  # index of the newest frame handed to the window
        self.prediction: Prediction | None = None
        self.cache = FrameCache(cache_capacity)
        self.view_size: tuple[int, int] | None = None  # the video view's (width, height); set by the window
        self.predictions_received = 0
        self._generation = 0
        self._run: LivePipeline[FrameView] | None = None
        self._recognizer: StreamRecognizer | None = None
        self._recognizer_thread: RecognizerThread | None = None
        self._pending_view: FrameView | None = None
        self._recording = SessionRecording(self)
        self._frames_in_done = 0
        self._threads = Workers()  # every worker started and maybe still running
        self._prediction_posted.connect(self._on_prediction)
        self._recomputed_posted.connect(self._on_recomputed)
        self._error_posted.connect(self._on_error)
        self.loading = Loading(self._threads.start, self)  # sources and models, opened in workers
        self.loading.source_opened.connect(self.set_source)
        self.loading.open_failed.connect(self.error)
        self.loading.model_loaded.connect(self.set_model)
        self.loading.model_failed.connect(self._on_model_failed)
        self._recording.finished.connect(self.recording_finished)
        self._recording.failed.connect(self.error)

    # ------------------------------------------------------------------------- sources and model

    def open(self, spec: str) -> None:
        """Open `spec` (a path, 'demo', 'synthetic', ...) in a worker; `source_changed` or `error` follows."""
        self.loading.open(spec)

    def set_source(self, source: Reader) -> None:
        """Replace the source and play it from its first frame (a recording of the old one is closed)."""
        self.stop_recording()
        self._cancel()
        self.source = source
        self.position = -1
        self.prediction = None
        self._recognizer = None
        self.loading.default_for(source)
        self.cache.clear()
        self.source_changed.emit(source)
        self.playing = False
        self.play()

    def load_model(self, folder: str | Path | None, provider: str | None = None) -> None:
        """Load a model folder of any kind in a worker thread; None: the default for the source
        (`app.model_choice`), chosen again whenever another source opens (`session_loading`)."""
        self.loading.load_model(folder, provider, self.source)

    def set_model(self, model: Model | None) -> None:
        """Use `model` from now on; the prediction where the replay stands is recomputed."""
        self.model = model
        self._recognizer = None
        self.model_changed.emit(model)
        if self.source is not None and self.position >= 0:
            self.seek(self.position)
        elif self.source is not None and self.playing:  # no frame shown yet: the run began without this
            self.pause()  # model (it loads in a thread), and would have played the source out without
            self.play()  # a prediction; it starts again from the first frame with it

    # ------------------------------------------------------------------------------------ playback

    def play(self) -> None:
        if self.source is None or self.playing:
            return
        self.playing = True
        start = self.position + 1
        if self.source.num_frames is not None and start >= self.source.num_frames:
            start = 0  # at the end: play again from the start
        if start == 0 or self.model is None:
            self._start_run(start, self._fresh_recognizer())
        elif (recognizer := self._reusable_recognizer(start)) is not None:
            self._start_run(start, recognizer)
        else:
            self.seek(start)  # rebuild the window before `start`, then play on from there
        self.playback_changed.emit()

    def pause(self) -> None:
        if not self.playing:
            return
        self.playing = False
        self._stop_run()
        self.playback_changed.emit()

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def step(self, delta: int) -> None:
        """Pause and move `delta` frames."""
        if self.source is None:
            return
        self.pause()
        self.seek(max(0, self.position) + delta)

    def seek(self, index: int) -> None:
        """Go to frame `index`: show it, recompute its prediction (in a worker), keep playing if playing."""
        if self.source is None:
            return
        if self.source.num_frames is not None:
            index = min(index, self.source.num_frames - 1)
        index = max(0, index)
        self._cancel()
        self.position = index
        self._recompute(index, resume=self.playing)
        self.playback_changed.emit()

    def set_speed(self, speed: float | None) -> None:
        self.speed = speed
        if self._run is not None:  # restart the capture with the new pacing, from where it stands
            self.pause()
            self.play()

    def set_loop(self, loop: bool) -> None:
        self.loop = loop

    # --------------------------------------------------------------------- the window's timer calls

    def tick(self) -> FrameView | None:
        """The newest frame to draw, prepared off this thread, if a new one arrived; also handles the
        capture's end or error."""
        view, self._pending_view = self._pending_view, None
        run = self._run
        event: CaptureEvent | None = None
        if run is not None:
            event = run.ended()
            shown = run.shown()  # after the end: a finished run has prepared its last frame
            if shown is not None:
                view = shown.screen
        if view is not None:
            self.position = view.frame.index
        if event is not None:
            self._capture_ended(event)
        return view

    @property
    def frames_in(self) -> int:
        """Frames read from the source so far (all runs)."""
        return self._frames_in_done + (self._run.frames_read if self._run is not None else 0)

    # ----------------------------------------------------------------------------------- recording

    @property
    def recording(self) -> RecorderThread | None:
        """The recording in progress, if any."""
        return self._recording.recorder

    def start_recording(self, stem: str | Path, metadata: dict | None = None) -> None:
        """Record the frames the source plays from now on to `stem` (the app's own format; `metadata`
        joins the sidecar's header, e.g. the Teach panel's action name)."""
        if self.source is None:
            if self._recording.recorder is None:
                self.error.emit("Nothing to record: open a source first")
            return
        self._recording.start(self.source, stem, metadata)

    def stop_recording(self) -> None:
        """Stop taking frames; the writer finishes what is queued and closes the files (in its thread)."""
        self._recording.stop(timeout=0)

    def shutdown(self, timeout: float = 10.0, workers_timeout: float = 0.0) -> None:
        """Stop every thread. The recording, if any, is closed cleanly before this returns; the other
        workers are waited for up to `workers_timeout` s (at exit, so that none dies inside a model)."""
        self._cancel()
        self.playing = False
        self._recording.stop(timeout)
        self._threads.join(workers_timeout)

    # ---------------------------------------------------------------------------------- internals

    def _post(self, signal: Any, *args: Any) -> None:
        """From any thread: emit one of the class's `signal`s (`worker_signals.post`)."""
        post(self, signal, *args)

    def _current(self, generation: int) -> bool:
        """False for what a worker of a replay position the session has left posts."""
        return generation in (ANY_GENERATION, self._generation)

    def _on_prediction(self, generation: int, prediction: Prediction) -> None:
        if self._current(generation):
            self._accept(prediction)

    def _on_recomputed(self, generation: int, result: Recomputed, view: FrameView | None) -> None:
        if self._current(generation):
            self._recomputed(result, view)

    def _on_error(self, generation: int, message: str) -> None:
        if self._current(generation):
            self.error.emit(message)

    def _on_model_failed(self, why: str) -> None:  # the model in use, if any, stays: nothing is lost
        kept = f"still using {self.model.name}" if self.model else "so the video plays without predictions"
        self.error.emit(f"{'Model not loaded' if self.model else 'No model loaded'}, {kept}: {why}")

    def _accept(self, prediction: Prediction) -> None:
        self.prediction = prediction
        self.predictions_received += 1
        self.prediction_ready.emit(prediction)

    def _fresh_recognizer(self) -> StreamRecognizer | None:
        if self.model is None:
            return None
        live = self.source is not None and self.source.num_frames is None  # a camera: still hands reuse
        return StreamRecognizer(self.model, still_threshold=still_threshold_for(live))

    def _reusable_recognizer(self, start: int) -> StreamRecognizer | None:
        """The paused recognizer, if its thread is done and its history ends just before `start`."""
        recognizer, thread = self._recognizer, self._recognizer_thread
        if recognizer is None or recognizer.model is not self.model:
            return None
        if thread is not None and thread.running:
            return None
        history = recognizer.windows.history
        return recognizer if history and history[-1].index == start - 1 else None

    def _start_run(self, start: int, recognizer: StreamRecognizer | None) -> None:
        """A stretch of playback from `start` through the live pipeline; while this generation is current,
        each frame goes to the recording (in the capture thread) and to the "explain" thumbnails, and the
        newest is prepared for the screen (in the display thread)."""
        assert self.source is not None
        generation, recording = self._generation, lambda: self._recording.recorder is not None
        run = LivePipeline(
            self.source, windowed_frames(self.source, recognizer, start, every_frame=recording), recognizer,
            paced=self.speed is not None, speed=self.speed or 1.0,
            on_prediction=lambda p: self._post(Session._prediction_posted, generation, p),
            on_error=lambda message: self._post(Session._error_posted, generation, message),
            display=Display(self._prepare, keep=self._while_current(generation, self.cache.add)),
            tap=self._while_current(generation, self._recording.push),
        )  # fmt: skip
        self._recognizer, self._recognizer_thread = recognizer, run.recognizer
        for thread in run.threads:
            self._threads.track(thread)
        self._run = run

    def _while_current(self, generation: int, action: Callable[[Frame], None]) -> Callable[[Frame], None]:
        """`action`, done only while `generation` is current: a stopped run's last frames are not kept."""
        return lambda frame: action(frame) if generation == self._generation else None

    def _prepare(self, frame: Frame) -> FrameView:
        """What the screen needs of `frame`, at the video view's size (in the thread that calls it)."""
        return prepare_view(frame, self.view_size)

    def _finish_run(self) -> None:
        """The capture ended by itself: its recognizer may still be working on the last frames."""
        if self._run is not None:
            self._frames_in_done += self._run.frames_read
            self._run = None

    def _stop_run(self) -> None:
        """Stop the capture and the recognizer without waiting for them; drop what they still post."""
        run, self._run = self._run, None
        if run is None:
            return
        run.stop()
        self._frames_in_done += run.frames_read
        self._generation += 1

    def _cancel(self) -> None:
        """Stop everything in flight (run and recompute): a new generation."""
        self._stop_run()
        self._generation += 1
        self._recognizer = None
        self._pending_view = None

    def _capture_ended(self, event: CaptureEvent) -> None:
        self._finish_run()
        if event.kind == "error":
            self.playing = False
            name = self.source.description if self.source is not None else "the source"
            self.error.emit(f"Reading {name} stopped at frame {self.position + 1}: {event.message}")
        elif self.loop and event.frames_read > 0 and self.playing:
            self._generation += 1  # the old recognizer's last words belong to the previous loop
            self.position = -1
            self._start_run(0, self._fresh_recognizer())
        else:
            self.playing = False
        self.playback_changed.emit()

    def _recompute(self, index: int, resume: bool) -> None:
        """In a worker: show frame `index` and the prediction of the window ending there (`recompute`)."""
        assert self.source is not None
        source, model, cache, generation = self.source, self.model, self.cache, self._generation

        def work() -> None:
            try:
                result = recompute(
                    source, model, cache, index, resume, current=lambda: generation == self._generation
                )
            except Exception as error:
                debug = log.isEnabledFor(logging.DEBUG)
                log.warning("recomputing frame %d failed: %s", index, error, exc_info=debug)
                message = f"Cannot show frame {index} of {source.description}: {error}"
                self._post(Session._error_posted, generation, message)
                return
            if result is not None:
                view = None if result.frame is None else prepare_view(result.frame, self.view_size)
                self._post(Session._recomputed_posted, generation, result, view)

        self._threads.start("recompute", work)

    def _recomputed(self, result: Recomputed, view: FrameView | None) -> None:
        frame, prediction, recognizer = result.frame, result.prediction, result.recognizer
        if view is not None:
            self._pending_view = view
            self.position = view.frame.index
        if prediction is not None:
            self._accept(prediction)
        self._recognizer, self._recognizer_thread = recognizer, None
        if result.resume and self.playing:
            if frame is None:
                self.playing = False
                self.playback_changed.emit()
            else:
                self._start_run(frame.index + 1, recognizer)
