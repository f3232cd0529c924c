"""The live pipeline, assembled here and nowhere else: source -> capture thread -> rings -> recognizer
thread, and for a window a display stage; used by the GUI's session, `sta-hands run --headless` and the
soak (through both).

    source --CaptureThread--+--> recognizer ring (8, oldest dropped) --RecognizerThread--> Prediction
                            +--> display ring (8) --DisplayThread--> shown ring (2, newest wins)
                                                        |                 `--> DisplayEvent
                                                        `--> keep(frame) for every frame (thumbnails)

What comes out is frozen: a `DisplayEvent` per frame the screen should show (the frame and what the screen
needs of it, prepared in the display thread so that the GUI thread only paints), a `Prediction` per window
classified (frozen itself), and a `CaptureEvent` when the source ends or fails. Why a display thread of its
own: scaling a 1080p image and cutting the hand crops take milliseconds that belong neither to the capture
(whose pacing they would shake) nor to the GUI thread (whose redraws they would delay).

A replay that needs every window classified (`run --headless` as fast as possible) has no threads and no
rings: `run_lossless` reads the source through the lossless recognizer; `run_live` paces it as a live run.
"""

from __future__ import annotations

import contextlib
import logging
import queue
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from sta_hands.app.capture import CaptureEvent, CaptureThread
from sta_hands.app.recognizer import Prediction, RecognizerThread, StreamRecognizer
from sta_hands.app.replay import replay
from sta_hands.app.ring import FrameRing, RingConsumer
from sta_hands.app.worker import Worker
from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import Frame
from sta_hands.contract.inputs import window_grid_frames
from sta_hands.contract.reader import Reader, close_frames, read
from sta_hands.recordings.estimate.bodies import live_view

log = logging.getLogger(__name__)

S = TypeVar("S")

# Frames waiting for the display thread: each is kept (thumbnails), the newest shown. A display stage more
# than this behind (an unpaced replay outrunning it) loses the oldest: "explain" shows those cells blank.
DISPLAY_RING_CAPACITY = 8
SHOWN_RING_CAPACITY = 2  # prepared frames waiting for the GUI: it paints the newest
RECOGNIZER_RING_CAPACITY = 8  # as `sta-hands run --realtime`: a slow model skips, never lags
_REPORTED = CaptureEvent("end")  # `LivePipeline.ended` has given its event already


@dataclass(frozen=True, eq=False)
class DisplayEvent(Generic[S]):
    """One frame for the screen and what the screen needs of it (`screen`: the display's own
    preparation, e.g. the GUI's `FrameView`), made off the GUI thread."""

    frame: Frame
    screen: S


@dataclass(frozen=True)
class Display(Generic[S]):
    """A display stage: `prepare` makes what the screen needs of a frame (in the display thread, for the
    newest frame waiting only); `keep` sees every frame (e.g. a thumbnail cache for "explain")."""

    prepare: Callable[[Frame], S]
    keep: Callable[[Frame], None] = lambda frame: None


class DisplayThread(RingConsumer[Frame], Generic[S]):
    """Takes every frame waiting in `ring`, keeps each, prepares the newest and pushes its event to
    `shown` (newest wins: a slow screen skips frames, never lags)."""

    def __init__(self, display: Display[S], ring: FrameRing[Frame], shown: FrameRing[DisplayEvent[S]]):
        self.display, self.shown = display, shown
        super().__init__("display", ring)

    def _take(self, items: list[Frame]) -> None:
        for frame in items:
            self.display.keep(frame)
        self.shown.push(DisplayEvent(items[-1], self.display.prepare(items[-1])))

    def _drained(self) -> None:
        self.shown.close()

    def _failed(self, error: Exception) -> None:  # the screen's own bug: the video stops, the model goes on
        super()._failed(error)
        self.shown.close()


def windowed_frames(
    source: Reader,
    recognizer: StreamRecognizer | None,
    start: int = 0,
    every_frame: Callable[[], bool] = lambda: False,
) -> Iterator[Frame]:
    """The frames of `source` from `start` as a live run reads them: estimated bodies only on the frames
    the recognizer's windows sample and the screen's (every frame while `every_frame()`, e.g. recording)."""
    if recognizer is not None:
        info = recognizer.model.info
        source = live_view(source, info.window_seconds, info.window_length, every_frame=every_frame)
    return read(source, start)


class LivePipeline(Generic[S]):
    """Capture -> rings -> recognizer (None: no model) and display stage (None: no screen), started at once.

    `paced`: at the recorded timestamps times `speed` (a live source paces itself: never paced here);
    `tap` runs in the capture thread on every frame (a recording must see each one, which no dropping
    ring promises). Predictions go to `on_prediction`, a recognizer's failure to `on_error`, from the
    recognizer's thread; the GUI polls `shown()` and `ended()`.
    """

    def __init__(
        self,
        source: Reader,
        frames: Iterable[Frame],
        recognizer: StreamRecognizer | None,
        *,
        paced: bool,
        speed: float = 1.0,
        on_prediction: Callable[[Prediction], None],
        on_error: Callable[[str], None],
        display: Display[S] | None = None,
        tap: Callable[[Frame], None] | None = None,
    ) -> None:
        rings: list[FrameRing[Frame]] = []
        self.recognizer_ring: FrameRing[Frame] | None = None
        self.recognizer: RecognizerThread | None = None
        self.display: DisplayThread[S] | None = None
        self._shown: FrameRing[DisplayEvent[S]] = FrameRing(SHOWN_RING_CAPACITY)
        self._end: CaptureEvent | None = None
        if recognizer is not None:
            recognizer.lossless = False
            self.recognizer_ring = FrameRing(RECOGNIZER_RING_CAPACITY)
            rings.append(self.recognizer_ring)
            self.recognizer = RecognizerThread(recognizer, self.recognizer_ring, on_prediction, on_error)
        if display is not None:
            display_ring: FrameRing[Frame] = FrameRing(DISPLAY_RING_CAPACITY)
            rings.append(display_ring)
            self.display = DisplayThread(display, display_ring, self._shown)
        tapped = frames if tap is None else _tapped(frames, tap)
        realtime = paced and source.num_frames is not None  # a live source paces itself
        self.capture = CaptureThread(tapped, rings, realtime=realtime, speed=speed, on_stop=source.stop)
        for worker in self.threads:
            worker.start()

    @property
    def threads(self) -> tuple[Worker, ...]:
        """Every thread of the pipeline, the consumers first (started before the capture feeds them)."""
        return tuple(w for w in (self.recognizer, self.display, self.capture) if w is not None)

    @property
    def frames_read(self) -> int:
        return self.capture.frames_read

    @property
    def frames_dropped(self) -> int:
        """Frames the recognizer never saw: it was busy."""
        return self.recognizer_ring.dropped if self.recognizer_ring is not None else 0

    def shown(self) -> DisplayEvent[S] | None:
        """The newest display event since the last call, if any."""
        events = self._shown.drain()
        return events[-1] if events else None

    def ended(self) -> CaptureEvent | None:
        """The capture's end or error, once, when it has come and the display stage has prepared what
        the capture pushed (so that `shown()` after it gives the last frame)."""
        if self._end is None:
            with contextlib.suppress(queue.Empty):
                self._end = self.capture.events.get_nowait()
        if self._end is None or (self.display is not None and self.display.running):
            return None
        event, self._end = self._end, _REPORTED
        return None if event is _REPORTED else event

    def join(self) -> None:
        """Wait for the capture to end and the consumers to finish what it pushed."""
        for worker in reversed(self.threads):  # the capture first
            worker.join()

    def stop(self, timeout: float = 0) -> None:
        """Stop every thread, the capture first, waiting up to `timeout` s for each (0: not at all, e.g.
        from the GUI)."""
        for worker in reversed(self.threads):
            worker.stop(timeout=timeout)


def _tapped(frames: Iterable[Frame], tap: Callable[[Frame], None]) -> Iterator[Frame]:
    iterator = iter(frames)
    try:
        for frame in iterator:
            tap(frame)
            yield frame
    finally:
        close_frames(iterator)  # the source's iterator is closed in the capture thread


def run_live(
    source: Reader, recognizer: StreamRecognizer, emit: Callable[[Prediction], None], speed: float = 1.0
) -> str | None:
    """`source` through the pipeline without a screen until it ends, paced at `speed` (a live source paces
    itself); the frames the recognizer never saw are counted in it. The errors, joined, or None."""
    errors: list[str] = []
    pipeline: LivePipeline[None] = LivePipeline(
        source, windowed_frames(source, recognizer), recognizer, paced=True, speed=speed,
        on_prediction=emit, on_error=errors.append,
    )  # fmt: skip
    try:
        pipeline.join()
    finally:
        pipeline.stop(timeout=5.0)
    recognizer.frames_dropped = pipeline.frames_dropped
    event = pipeline.ended()
    if event is not None and event.kind == "error":
        errors.insert(0, event.message)
    return "; ".join(errors) or None


def run_lossless(
    source: Reader, recognizer: StreamRecognizer, emit: Callable[[Prediction], None]
) -> str | None:
    """Every due window of `source`, as fast as possible, in this thread; a source that fails mid-way (a
    file cut while it is read) ends the run with what was classified so far, and its error is returned,
    as `run_live` does."""
    images = None
    if source.timestamps is not None:  # decode only the images that some window samples
        info = recognizer.model.info
        images = window_grid_frames(source.timestamps, info.window_seconds, info.window_length)
    error = None
    try:
        for _frame, predictions in replay(source, recognizer, 0, images):
            for prediction in predictions:
                emit(prediction)
    except (RecordingError, OSError) as failure:  # the source's, not the model's: those still raise
        log.warning("%s stopped: %s", source.description, failure, exc_info=log.isEnabledFor(logging.DEBUG))
        error = f"{failure} (after {recognizer.frames_seen} frames)"
    for prediction in recognizer.flush():
        emit(prediction)
    return error
