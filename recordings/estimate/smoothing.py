"""Light temporal smoothing of landmarks: the One Euro filter (Casiry, Roussel & Vogel, CHI 2012).

Still points are smoothed hard (jitter gone), moving ones hardly at all (no lag): the cut-off frequency
rises with the speed. As in MediaPipe's pose graph, the speed is measured in the person's sizes per
second, so the same settings suit a person filling a webcam frame and a small one far from a Kinect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _alpha(dt: float, cutoff: np.ndarray | float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


@dataclass
class OneEuroFilter:
    """Smooths one array per call; `min_cutoff` (Hz) for still points, `beta` how fast it opens up."""

    min_cutoff: float
    beta: float
    derivative_cutoff: float = 1.0
    _raw: np.ndarray | None = None
    _value: np.ndarray | None = None
    _speed: np.ndarray | None = None
    _time: float = 0.0

    def __call__(self, value: np.ndarray, time: float, scale: float) -> np.ndarray:
        """`value` smoothed; `time` in seconds, `scale` the object's size in `value`'s units."""
        raw = np.asarray(value, dtype=np.float64)
        dt = time - self._time
        if self._raw is None or self._value is None or self._speed is None or dt <= 0:
            self._raw, self._value, self._speed, self._time = raw, raw, np.zeros_like(raw), time
            return raw
        speed = (raw - self._raw) / (dt * scale)  # object sizes per second
        self._speed = self._speed + _alpha(dt, self.derivative_cutoff) * (speed - self._speed)
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed)
        self._value = self._value + _alpha(dt, cutoff) * (raw - self._value)
        self._raw, self._time = raw, time
        return self._value
