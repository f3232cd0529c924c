"""`TransportBar`: replay controls. Play/pause, frame steps, a seek slider, speed and loop.

It only emits what the user asked for; the session does it and the window reports back through
`display`. The controls take no keyboard focus, so space and the arrows always reach the window's
shortcuts.
"""

from __future__ import annotations

from PyQt5.QtCore import QSize, Qt, pyqtSignal
from PyQt5.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QPushButton, QSlider, QStyle, QWidget

from sta_hands.app.gui.widgets import PlainLabel, font
from sta_hands.app.gui.window.view import WindowView

SPEEDS: tuple[tuple[str, float | None], ...] = (
    ("0.25×", 0.25),
    ("0.5×", 0.5),
    ("1×", 1.0),
    ("2×", 2.0),
    ("4×", 4.0),
    ("as fast as possible", None),
)


class TransportBar(QWidget):
    play_toggled = pyqtSignal()
    stepped = pyqtSignal(int)  # -1 or +1
    seeked = pyqtSignal(int)  # frame index
    speed_changed = pyqtSignal(object)  # float, or None for as fast as possible
    loop_changed = pyqtSignal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play = _button(QStyle.SP_MediaPlay, "Play / pause (Space)")
        self.back = _button(QStyle.SP_MediaSeekBackward, "One frame back (←)")
        self.forward = _button(QStyle.SP_MediaSeekForward, "One frame forward (→)")
        style = self.style()
        self._icons = {
            False: style.standardIcon(QStyle.SP_MediaPlay),
            True: style.standardIcon(QStyle.SP_MediaPause),
        }
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setFocusPolicy(Qt.NoFocus)
        self.slider.setRange(0, 0)
        self.time = PlainLabel("0.00 s")
        self.time.setFont(font(12))
        self.time.setMinimumWidth(190)
        self.speed = QComboBox()
        self.speed.setFocusPolicy(Qt.NoFocus)
        self.speed.setFont(font(11))
        for label, value in SPEEDS:
            self.speed.addItem(label, value)
        self.speed.setCurrentIndex(2)
        self.playing = False
        self.speed.setToolTip("Replay speed")
        self.loop = QCheckBox("Loop")
        self.loop.setFont(font(11))
        self.loop.setFocusPolicy(Qt.NoFocus)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for widget in (self.back, self.play, self.forward):
            layout.addWidget(widget)
        layout.addWidget(self.slider, 1)
        for widget in (self.time, self.speed, self.loop):
            layout.addWidget(widget)
        self.play.clicked.connect(self.play_toggled)
        self.back.clicked.connect(lambda: self.stepped.emit(-1))
        self.forward.clicked.connect(lambda: self.stepped.emit(1))
        self.slider.valueChanged.connect(self._slider_moved)
        self.slider.sliderReleased.connect(lambda: self.seeked.emit(self.slider.value()))
        self.speed.currentIndexChanged.connect(lambda i: self.speed_changed.emit(self.speed.itemData(i)))
        self.loop.toggled.connect(self.loop_changed)

    def _slider_moved(self, value: int) -> None:
        if not self.slider.isSliderDown():  # a click on the groove or a page step; a drag seeks on release
            self.seeked.emit(value)

    def show_view(self, view: WindowView) -> None:
        """Reflect where the replay stands (the slider is left alone while it is dragged)."""
        position, num_frames, fps, playing = (
            view.playback.position,
            view.playback.num_frames,
            view.playback.fps,
            view.playback.playing,
        )
        self.play.setIcon(self._icons[playing])
        self.play.setToolTip("Pause (Space)" if playing else "Play (Space)")
        self.playing = playing
        maximum = max(0, (num_frames or 0) - 1)
        if self.slider.maximum() != maximum:
            self.slider.blockSignals(True)
            self.slider.setRange(0, maximum)
            self.slider.blockSignals(False)
        if not self.slider.isSliderDown() and position >= 0 and self.slider.value() != position:
            self.slider.blockSignals(True)
            self.slider.setValue(position)
            self.slider.blockSignals(False)
        seconds = max(position, 0) / fps if fps > 0 else 0.0
        total = f" / {maximum / fps:.2f} s" if num_frames and fps > 0 else " s"
        frames = f"  frame {max(position, 0) + 1}/{num_frames}" if num_frames else ""
        text = f"{seconds:.2f}{total}{frames}"
        if self.time.text() != text:
            self.time.setText(text)
        enabled = num_frames is not None and num_frames > 0
        for widget in (self.play, self.back, self.forward, self.slider):
            widget.setEnabled(enabled)

    def set_speed(self, speed: float | None) -> None:
        for i in range(self.speed.count()):
            if self.speed.itemData(i) == speed:
                self.speed.setCurrentIndex(i)


def _button(icon: QStyle.StandardPixmap, tip: str) -> QPushButton:
    button = QPushButton()
    button.setIcon(button.style().standardIcon(icon))
    button.setIconSize(QSize(26, 26))
    button.setToolTip(tip)
    button.setFocusPolicy(Qt.NoFocus)
    button.setMinimumWidth(48)
    return button
