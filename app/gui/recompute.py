"""The session's recompute after a seek, pause or model change (run in a worker thread): frame `index`
and the prediction of the window ending there, read by a fresh lossless recognizer from the frames of
the preceding `window_seconds`, so that the shown prediction is the one playback would have made."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from sta_hands.app.gui.frame_cache import FrameCache
from sta_hands.app.model import Model
from sta_hands.app.recognizer import Prediction, StreamRecognizer
from sta_hands.app.replay import replay
from sta_hands.contract.frame import Frame
from sta_hands.contract.reader import Reader


@dataclass(frozen=True)
class Recomputed:
    """What a recompute found: the frame to show, its window's prediction, the recognizer that read up
    to it (to play on from there) and whether playback resumes."""

    frame: Frame | None
    prediction: Prediction | None
    recognizer: StreamRecognizer | None
    resume: bool


def recompute(
    source: Reader,
    model: Model | None,
    cache: FrameCache,
    index: int,
    resume: bool,
    current: Callable[[], bool],
) -> Recomputed | None:
    """Replay `source` up to frame `index` through a fresh lossless recognizer of `model` (none: the frame
    only), each frame read added to `cache`; None as soon as `current()` says the session moved on."""
    before = math.ceil(model.info.window_seconds * source.fps) + 1 if model is not None else 0
    first = max(0, index - before)
    recognizer = StreamRecognizer(model, lossless=True) if model is not None else None
    shown: Frame | None = None
    last: Prediction | None = None
    for frame, predictions in islice(replay(source, recognizer, first), index - first + 1):
        if not current():
            return None
        cache.add(frame)
        shown = frame
        last = predictions[-1] if predictions else last
    if recognizer is not None and last is None:
        last = next(iter(recognizer.flush()), None)
    return Recomputed(shown, last, recognizer, resume)
