"""`TemporalCurve`: the temporal attention over the window's frames, against their times in seconds (a pose
model's relevance over time, so named).

A vertical marker stands at the displayed frame's time. The curve's data is replaced only when a
new prediction arrives; the marker moves every frame.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt5.QtWidgets import QVBoxLayout, QWidget

from sta_hands.app.gui.window.view import WindowView
from sta_hands.app.recognizer import Prediction

CURVE_COLOUR = (255, 165, 0)
TITLES = {  # a prediction's `explanation` -> the title and axis ("relevance" is not the paper's attention)
    "attention": ("When it looked: temporal attention", "attention"),
    "relevance": ("When it mattered: relevance over time", "relevance"),
}
MARKER_COLOUR = (90, 200, 255)


class TemporalCurve(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background=(24, 24, 30))
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self._name_axes("attention")
        self.plot.setLabel("bottom", "time (s)")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        for axis in ("bottom", "left"):
            self.plot.getAxis(axis).setTickFont(self.font())
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self.curve = self.plot.plot(
            [], [], pen=pg.mkPen(CURVE_COLOUR, width=3), symbol="o", symbolSize=7,
            symbolBrush=CURVE_COLOUR, symbolPen=None, fillLevel=0.0, brush=(255, 165, 0, 60),
        )  # fmt: skip
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(MARKER_COLOUR, width=2))
        self.plot.addItem(self.marker)
        self.marker.hide()
        self.prediction: Prediction | None = None
        self._x_range: tuple[float, float] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    def show_view(self, view: WindowView) -> None:
        """The curve of the view's prediction (replaced only when it changes), the marker at its frame."""
        prediction, timestamp = view.prediction, view.frame.timestamp if view.frame is not None else None
        if prediction is not self.prediction:
            self.prediction = prediction
            if prediction is None or not prediction.classified:  # no one in view: the model did not run
                self.curve.setData([], [])
            else:
                self._name_axes(prediction.explanation)
                x, y = prediction.timestamps, prediction.temporal_attention
                self.curve.setData(x, y)
                self.plot.setYRange(0.0, max(2.0 / len(y), float(np.max(y)) * 1.15), padding=0)
        if timestamp is None:
            self.marker.hide()
        else:
            self.marker.setValue(timestamp)
            self.marker.show()
        self._fit_x(timestamp)

    def _name_axes(self, explanation: str) -> None:
        title, axis = TITLES[explanation]
        self.plot.setTitle(title, color=(230, 230, 230), size="13pt")
        self.plot.setLabel("left", axis)

    def _fit_x(self, timestamp: float | None) -> None:
        """Fit the window and the marker; the axes move when the marker leaves the range, or with a new
        window, never at every frame (the marker runs ahead of the window by the model's latency)."""
        if self.prediction is None:
            return
        lo, hi = float(self.prediction.timestamps[0]), float(self.prediction.timestamps[-1])
        if timestamp is not None:
            lo, hi = min(lo, timestamp), max(hi, timestamp)
        current = self._x_range
        if current is not None and current[0] <= lo and hi <= current[1] and current[1] - hi < (hi - lo):
            return
        pad = max(0.02, (hi - lo) * 0.03)
        self._x_range = (lo - pad, hi + pad + (hi - lo) * 0.15)  # headroom for the marker to run into
        self.plot.setXRange(*self._x_range, padding=0)

    def curve_data(self) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.curve.getData()
        return (np.array([]), np.array([])) if x is None else (np.asarray(x), np.asarray(y))
