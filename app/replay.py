"""`replay`: a source read frame by frame through a lossless recognizer, the one loop behind every replay
that needs each window's prediction (`run --headless` as fast as possible, the annotated-video export,
the GUI's recompute after a seek, `evaluate --streaming`)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sta_hands.app.recognizer import Prediction, StreamRecognizer
from sta_hands.contract.frame import Frame
from sta_hands.contract.reader import Reader, read


def replay(
    source: Reader, recognizer: StreamRecognizer | None, start: int = 0, images: np.ndarray | None = None
) -> Iterator[tuple[Frame, list[Prediction]]]:
    """Each frame of `source` from `start`, stamped as it leaves the source, with the predictions it
    completed (every due window: the recognizer is lossless; none without a recognizer). `images`: decode
    only the images flagged (see `Reader`). The source is closed when the loop ends, however it ends."""
    if recognizer is not None:
        recognizer.lossless = True
    for frame in read(source, start, images):
        stamped = frame.stamped()
        yield stamped, [] if recognizer is None else recognizer.feed([stamped])
