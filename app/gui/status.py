"""The status line: source (and its trouble, e.g. a lost sensor), frames in per second, predictions per
second, median latency from capture to prediction and from capture to display, frames dropped and windows
skipped (separate counters), execution provider and model name; plus the meters that measure them
(`WindowFigures`)."""

from __future__ import annotations

import time
from collections import deque

import numpy as np
from PyQt5.QtWidgets import QHBoxLayout, QLabel, QWidget

from sta_hands.app.gui.widgets import PlainLabel, font, plain_tooltip
from sta_hands.app.gui.window.view import Stats, WindowView
from sta_hands.app.model import Model
from sta_hands.app.recognizer import Prediction
from sta_hands.contract.reader import Reader


class RateMeter:
    """Events per second over the last `seconds` (smoothed by the window)."""

    def __init__(self, seconds: float = 2.0) -> None:
        self.seconds = seconds
        self._times: deque[float] = deque()

    def tick(self, count: int = 1, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        self._times.extend([now] * count)
        self._trim(now)

    def rate(self, now: float | None = None) -> float:
        now = time.perf_counter() if now is None else now
        self._trim(now)
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(now - self._times[0], 1e-6)

    def reset(self) -> None:
        self._times.clear()

    def _trim(self, now: float) -> None:
        while self._times and self._times[0] < now - self.seconds:
            self._times.popleft()


class LatencyMeter:
    """Median of the last `size` latencies (ms)."""

    def __init__(self, size: int = 30) -> None:
        self._values: deque[float] = deque(maxlen=size)

    def add(self, value_ms: float) -> None:
        self._values.append(value_ms)

    def median(self) -> float | None:
        return float(np.median(self._values)) if self._values else None

    def reset(self) -> None:
        self._values.clear()


class StatusPanel(QWidget):
    """One label per figure, for the window's status bar."""

    FIELDS = ("source", "frames", "predictions", "latency", "dropped", "skipped", "provider", "model")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(18)
        self.labels: dict[str, QLabel] = {}
        for name in self.FIELDS:
            label = PlainLabel("")
            label.setFont(font(11))
            self.labels[name] = label
            layout.addWidget(label, 1 if name == "source" else 0)

    def show_view(self, view: WindowView) -> None:
        """The figures, when the view carries them (about 4 times a second); else the last ones stay."""
        if view.stats is not None:
            self._show_stats(view.stats)

    def _show_stats(self, stats: Stats) -> None:
        def ms(value: float | None) -> str:
            return "–" if value is None else f"{value:.0f} ms"

        texts = {
            "source": stats.source
            if stats.source_problem is None
            else f"{stats.source}: {stats.source_problem}",
            "frames": f"in {stats.frames_per_second:.1f} fps",
            "predictions": f"{stats.predictions_per_second:.1f} pred/s",
            "latency": f"latency {ms(stats.latency_ms)}, on screen {ms(stats.display_latency_ms)}",
            "dropped": f"frames dropped {stats.frames_dropped}",
            "skipped": f"windows skipped {stats.windows_skipped}",
            "provider": stats.provider.removesuffix("ExecutionProvider") or "no model",
            "model": stats.model,
        }
        for name, text in texts.items():
            label = self.labels[name]
            if label.text() != text:
                label.setText(text)
        self.labels["source"].setToolTip(plain_tooltip(texts["source"]))
        self.labels["source"].setStyleSheet("" if stats.source_problem is None else "color:#ff6060;")
        self.labels["provider"].setToolTip(plain_tooltip(stats.provider))


class WindowFigures:
    """What the status bar measures of the running window: frames in and predictions per second, and the
    latency from a frame's capture to its prediction and to the screen."""

    def __init__(self) -> None:
        self.frames, self.predictions = RateMeter(), RateMeter()
        self.latency, self.display_latency = LatencyMeter(), LatencyMeter()
        self._frames_in_seen = 0
        self._drawn: Prediction | None = None

    def reset(self, frames_in: int) -> None:
        """A new source: measure afresh from the `frames_in` read so far (the session's count)."""
        for meter in (self.frames, self.predictions, self.latency, self.display_latency):
            meter.reset()
        self._frames_in_seen = frames_in

    def frames_read(self, frames_in: int) -> None:
        """The session's count of frames read so far: those new since the last call are counted."""
        if frames_in > self._frames_in_seen:
            self.frames.tick(frames_in - self._frames_in_seen)
        self._frames_in_seen = frames_in

    def predicted(self, prediction: Prediction) -> None:
        self.predictions.tick()
        self.latency.add(prediction.timings.age_ms)

    def drawn(self, prediction: Prediction | None) -> None:
        """`prediction` is on screen: its latency to the screen, counted once."""
        if prediction is not None and prediction is not self._drawn:
            self._drawn = prediction
            if prediction.captured_at:  # a replay recomputed after a seek has no live capture to time
                self.display_latency.add((time.perf_counter() - prediction.captured_at) * 1e3)

    def stats(
        self, source: Reader | None, model: Model | None, prediction: Prediction | None, problem: str | None
    ) -> Stats:
        """The figures for the status bar, with the source's `problem` if any."""
        return Stats(
            source=source.description if source is not None else "no source",
            frames_per_second=self.frames.rate(),
            predictions_per_second=self.predictions.rate(),
            latency_ms=self.latency.median(),
            display_latency_ms=self.display_latency.median(),
            frames_dropped=prediction.frames_dropped if prediction is not None else 0,
            windows_skipped=prediction.windows_skipped if prediction is not None else 0,
            provider=model.provider if model is not None else "",
            model=model.describe() if model is not None else "no model (video only)",
            source_problem=problem,
        )
