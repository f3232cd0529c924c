"""Windows in time on a whole clip: the ones the live recognizer classifies, and training draws of them.

Torch-free. Live (`app.recognizer.StreamWindows`), a window is 20 samples on a fixed time grid over
the model's `window_seconds` (`contract.inputs.time_window_indices`); a lossless replay classifies
one at each grid point once the frames seen span `window_seconds` (status "ok"), and a source shorter
than that gets one window over all it has at its end (status "partial"). Here the same windows are
computed from a clip's timestamps, so that training and the checkpoint's streaming evaluation draw
what the app sees (design.md, "Windows in time"):

- `window_seconds_of`: the live window's length, decided from the training clips;
- `live_windows`: every full window a lossless replay of the clip classifies, in order;
- `partial_window`: the window of a clip shorter than `window_seconds` (the recognizer's flush);
- `time_window`: a training draw, a random end time and the grid over `window_seconds` before it,
  inside the clip (the partial window for a clip shorter than that); without `rng` the middle live
  window (validation);
- `draw_window`: the draw a `TrainSettings.sampling` names ("time", or the paper's "segments" and
  "chunk", `models.data.window_indices`, or "time+segments": each training draw one of the first two
  at random, validation the live window; the spatial attention then sees both step spacings, the
  app's and that of the paper's evaluation views).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np

from sta_hands.contract.inputs import time_window_indices, window_grid_index, window_grid_step
from sta_hands.models.data import window_indices

Sampling = Literal["time", "segments", "chunk", "time+segments"]
SAMPLINGS: tuple[str, ...] = ("time", "segments", "chunk", "time+segments")
SPAN_TOLERANCE = 0.999  # the recognizer's: a history spanning 99.9% of window_seconds is a full window


def _times(timestamps: Sequence[float] | np.ndarray) -> np.ndarray:
    times = np.asarray(timestamps, dtype=np.float64)
    if len(times) == 0:
        raise ValueError("a window needs at least one frame")
    return times


def spans_window(timestamps: Sequence[float] | np.ndarray, window_seconds: float) -> bool:
    """Whether a clip holds at least one full live window (its frames span `window_seconds`)."""
    times = _times(timestamps)
    return bool(times[-1] - times[0] >= window_seconds * SPAN_TOLERANCE)


def window_seconds_of(clips: Iterable[Sequence[float] | np.ndarray]) -> float:
    """The live window's length decided from the training clips' timestamps (design.md, "Windows in
    time"): the median of their first-to-last-frame spans, so that the median clip holds one full
    live window (whose 20 samples span exactly `window_seconds`)."""
    return float(np.median([np.ptp(_times(timestamps)) for timestamps in clips]))


def live_windows(
    timestamps: Sequence[float] | np.ndarray, window_seconds: float, length: int, stride: int = 1
) -> list[np.ndarray]:
    """The frame indices of every full window a lossless `StreamRecognizer` classifies on the clip.

    A window is due at the first frame whose grid point is `stride` past the last window's, once the
    frames since the first span `window_seconds`; it samples the frames up to that one. (The
    recognizer drops history older than 1.25 `window_seconds`, which no full window samples.)
    """
    times = _times(timestamps)
    grid = [window_grid_index(t, window_seconds, length) for t in times]
    windows: list[np.ndarray] = []
    last: int | None = None
    for end in np.flatnonzero(times - times[0] >= window_seconds * SPAN_TOLERANCE):
        if last is None or grid[end] >= last + stride:
            windows.append(time_window_indices(times[: end + 1], window_seconds, length))
            last = grid[end]
    return windows


def partial_window(
    timestamps: Sequence[float] | np.ndarray, window_seconds: float, length: int
) -> np.ndarray:
    """The one window the recognizer classifies on a clip shorter than `window_seconds` (all of it)."""
    return time_window_indices(_times(timestamps), window_seconds, length)


def time_window(
    timestamps: Sequence[float] | np.ndarray,
    window_seconds: float,
    length: int,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """A live window of the clip: with `rng` a random one inside the clip, else the middle live one.

    The random draw takes a random grid origin (a live stream's clock starts anywhere) and a random
    end frame among those whose window's oldest sample lies inside the clip; a clip shorter than
    `window_seconds` gives its partial window, as the recognizer does.
    """
    times = _times(timestamps)
    if rng is None:
        windows = live_windows(times, window_seconds, length)
        return windows[len(windows) // 2] if windows else partial_window(times, window_seconds, length)
    step = window_grid_step(window_seconds, length)
    shifted = times - rng.random() * step  # grid points at origin + k * step
    last = np.array([window_grid_index(t, window_seconds, length) for t in shifted])
    oldest = (last - (length - 1)) * step  # the oldest sample's grid time, for each end frame
    inside = np.flatnonzero(oldest >= shifted[0] - 1e-9)
    if len(inside) == 0:
        return time_window_indices(shifted, window_seconds, length)
    end = int(inside[rng.integers(len(inside))])
    return time_window_indices(shifted[: end + 1], window_seconds, length)


def draw_window(
    timestamps: Sequence[float] | np.ndarray,
    length: int,
    window_seconds: float,
    rng: np.random.Generator | None = None,
    sampling: Sampling = "time",
) -> np.ndarray:
    """`length` frame indices of one training (with `rng`) or validation (without) window of a clip."""
    if sampling == "time+segments":
        sampling = "segments" if rng is not None and rng.random() < 0.5 else "time"
    if sampling == "time":
        return time_window(timestamps, window_seconds, length, rng)
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling={sampling!r}, expected one of {', '.join(SAMPLINGS)}")
    return window_indices(len(_times(timestamps)), length, rng, sampling)
