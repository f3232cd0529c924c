"""`TopClasses`: the winning class in large type and the top five as bars.

Below the model's confidence threshold (`threshold`, set for taught models) the large type says
"not sure" and names the best class with its probability beside it, instead of naming it as the
answer; the bars still show the five as they are. A toggle adds, under each of the five, what the
pose stream alone and the RGB (hands) stream alone give the same class
(`Prediction.pose_probabilities` / `rgb_probabilities`).
"""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QColor
from PyQt5.QtWidgets import QCheckBox, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from sta_hands.app.gui.widgets import Bar, PlainLabel, font, plain_tooltip
from sta_hands.app.gui.window.view import WindowView
from sta_hands.app.recognizer import Prediction

TOP_K = 5
FUSED_COLOUR = QColor(255, 165, 0)
WINNER_COLOUR = QColor(255, 90, 40)
POSE_COLOUR = QColor(90, 200, 255)
RGB_COLOUR = QColor(200, 130, 255)


class ClassRow:
    """The widgets of one class: name, fused bar and value, and the two streams' bars (toggled)."""

    def __init__(self, grid: QGridLayout, row: int) -> None:
        self.name = PlainLabel("")
        self.name.setFont(font(13))
        self.name.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # long names are cut, not the bar
        self.bar = Bar(14)
        self.value = _value_label(13)
        self.pose_bar, self.pose_value = Bar(6), _value_label(10)
        self.rgb_bar, self.rgb_value = Bar(6), _value_label(10)
        self.pose_bar.set_value(0.0, POSE_COLOUR)
        self.rgb_bar.set_value(0.0, RGB_COLOUR)
        first = 4 * row
        grid.addWidget(self.name, first, 0)
        grid.addWidget(self.value, first, 1)
        grid.addWidget(self.bar, first + 1, 0, 1, 2)
        grid.addWidget(self.pose_bar, first + 2, 0)
        grid.addWidget(self.pose_value, first + 2, 1)
        grid.addWidget(self.rgb_bar, first + 3, 0)
        grid.addWidget(self.rgb_value, first + 3, 1)

        self.shown, self.streams_shown = True, True

    def set_streams_visible(self, visible: bool) -> None:
        self.streams_shown = visible
        self.set_shown(self.shown)

    def set_shown(self, shown: bool) -> None:
        """Show or hide the row (a model with fewer than five classes has no class for it)."""
        self.shown = shown
        for widget in (self.name, self.bar, self.value):
            widget.setVisible(shown)
        for widget in (self.pose_bar, self.pose_value, self.rgb_bar, self.rgb_value):
            widget.setVisible(shown and self.streams_shown)

    def set_class(self, name: str, fused: float, pose: float, rgb: float, winner: bool) -> None:
        self.name.setText(name)
        self.name.setToolTip(plain_tooltip(name))
        self.bar.set_value(fused, WINNER_COLOUR if winner else FUSED_COLOUR)
        self.value.setText(f"{fused:.0%}" if name else "")
        self.pose_bar.set_value(pose, POSE_COLOUR)
        self.pose_value.setText(f"pose {pose:.0%}" if name else "")
        self.rgb_bar.set_value(rgb, RGB_COLOUR)
        self.rgb_value.setText(f"hands {rgb:.0%}" if name else "")


def _value_label(points: float) -> QLabel:
    label = PlainLabel("")
    label.setFont(font(points, bold=points >= 12))
    label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
    label.setMinimumWidth(56 if points >= 12 else 76)
    return label


class TopClasses(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.winner = PlainLabel("–")
        self.winner.setFont(font(26, bold=True))
        self.winner.setStyleSheet("color:#ff7a3d;")
        self.winner.setWordWrap(True)
        self.winner_probability = PlainLabel("waiting for a prediction")
        self.winner_probability.setFont(font(14))
        self.streams = QCheckBox("Show pose and hands streams")
        self.streams.setFont(font(11))
        self.streams.setFocusPolicy(Qt.NoFocus)
        self.streams.setToolTip("What the pose stream alone (blue) and the hand-image stream alone (violet) "
                                "give each class; the model adds their logits")  # fmt: skip
        self.streams.toggled.connect(self._set_streams_visible)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(0, 1)
        self.rows = [ClassRow(grid, row) for row in range(TOP_K)]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.winner)
        layout.addWidget(self.winner_probability)
        layout.addSpacing(6)
        layout.addLayout(grid)
        layout.addWidget(self.streams)
        layout.addStretch(1)
        self.prediction: Prediction | None = None
        self.threshold: float | None = None  # below it, "not sure" (None: always name the best class)
        self._set_streams_visible(False)

    def set_threshold(self, threshold: float | None) -> None:
        """Say "not sure" when the best class is below `threshold` (None: never); redraws at once."""
        if threshold != self.threshold:
            self.threshold = threshold
            prediction, self.prediction = self.prediction, None
            self._show_prediction(prediction)

    def _set_streams_visible(self, visible: bool) -> None:
        for row in self.rows:
            row.set_streams_visible(visible)

    def show_view(self, view: WindowView) -> None:
        self._show_prediction(view.prediction)

    def _show_prediction(self, prediction: Prediction | None) -> None:
        if prediction is self.prediction:
            return
        self.prediction = prediction
        if prediction is None or not prediction.classified:
            self.winner.setText("–" if prediction is None else "no one in view")
            self.winner_probability.setText(
                "waiting for a prediction" if prediction is None else "no action named"
            )
            for row in self.rows:
                row.set_class("", 0.0, 0.0, 0.0, False)
            return
        two_streams = "rgb" in prediction.model_streams  # a pose-only model has no streams to show apart
        self.streams.setVisible(two_streams)
        self._set_streams_visible(two_streams and self.streams.isChecked())
        top = prediction.top(TOP_K)
        name, probability = top[0]
        unsure = self.threshold is not None and probability < self.threshold
        remark = f"  ({prediction.remark})" if prediction.remark else ""
        self.winner.setText("not sure" if unsure else name)
        self.winner.setStyleSheet("color:#b0b0b0;" if unsure else "color:#ff7a3d;")
        self.winner_probability.setText(
            f"best: {name} {probability:.0%} (below {self.threshold:.0%}){remark}"
            if unsure
            else f"{probability:.0%} sure{remark}"
        )
        index = {class_name: i for i, class_name in enumerate(prediction.class_names)}
        for rank, row in enumerate(self.rows):
            row.set_shown(rank < len(prediction.class_names))
            if rank >= len(top):
                row.set_class("", 0.0, 0.0, 0.0, False)
                continue
            name, p = top[rank]
            i = index[name]
            pose, rgb = float(prediction.pose_probabilities[i]), float(prediction.rgb_probabilities[i])
            row.set_class(name, p, pose, rgb, rank == 0 and not unsure)
