"""`WindowPanels`: the main window's central area, laid out to read at 1280x720 and 1920x1080; and `PANELS`,
the window's panels as data: each entry makes one panel (a `window_view.Panel`) and says where it goes.

The video with the replay controls and the four hand crops under it on the left; the top classes, the
temporal attention curve and the Explain / Record buttons on the right; the figures in the status bar; an
error / notice banner across the top. Adding a panel is one module (a widget with `show_view`) and one
entry here: it is laid out, and shown every redraw the same view as the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from sta_hands.app.gui.hand_panel import HandPanel
from sta_hands.app.gui.status import StatusPanel
from sta_hands.app.gui.temporal_curve import TemporalCurve
from sta_hands.app.gui.top_classes import TopClasses
from sta_hands.app.gui.transport import TransportBar
from sta_hands.app.gui.video_view import VideoView
from sta_hands.app.gui.widgets import Banner, PlainLabel, font

RECORD, STOP_RECORDING = "●  Record  (R)", "■  Stop recording  (R)"


@dataclass(frozen=True)
class PanelEntry:
    """One panel: its name (the window's attribute), how to make it, where it goes ("left" or "right"
    column, top to bottom in this order, or the "status" bar), its stretch and a fixed height if any."""

    name: str
    make: Callable[[], QWidget]
    place: Literal["left", "right", "status"]
    stretch: int = 0
    height: int | None = None


PANELS: tuple[PanelEntry, ...] = (
    PanelEntry("video", VideoView, "left", stretch=1),
    PanelEntry("transport", TransportBar, "left"),
    PanelEntry("hands", lambda: HandPanel(columns=4), "left", height=170),
    PanelEntry("top", TopClasses, "right", stretch=3),
    PanelEntry("curve", TemporalCurve, "right", stretch=3),
    PanelEntry("status", StatusPanel, "status", stretch=1),
)


class WindowPanels(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.banner = Banner()
        self.panels: dict[str, QWidget] = {entry.name: entry.make() for entry in PANELS}  # `Panel`s
        self.explain_button = QPushButton("Explain this moment  (E)")
        self.record_button = QPushButton(RECORD)
        for button in (self.explain_button, self.record_button):
            button.setFont(font(14, bold=True))
            button.setFocusPolicy(Qt.NoFocus)
            button.setMinimumHeight(44)
        self.explain_button.setStyleSheet("background:#2d5d9b; color:white;")
        self.record_button.setStyleSheet("color:#ff5050;")
        self.rec_indicator = PlainLabel("")
        self.rec_indicator.setFont(font(18, bold=True))
        self.rec_indicator.setStyleSheet("color:#ff3030;")
        self.rec_indicator.hide()
        self.setLayout(self._body())

    def show_recording(self, seconds: float | None) -> None:
        """The Record button and the REC indicator: recording for `seconds` so far, or not (None)."""
        self.record_button.setText(RECORD if seconds is None else STOP_RECORDING)
        if seconds is None:
            self.rec_indicator.hide()
        else:
            self.rec_indicator.setText(f"● REC {int(seconds) // 60:02d}:{int(seconds) % 60:02d}")
            self.rec_indicator.show()

    def _body(self) -> QVBoxLayout:
        record_row = QHBoxLayout()
        record_row.addWidget(self.record_button, 1)
        record_row.addWidget(self.rec_indicator)
        left, right = QVBoxLayout(), QVBoxLayout()
        left.setSpacing(4)
        right.setSpacing(6)
        for entry in PANELS:
            panel = self.panels[entry.name]
            if entry.height is not None:
                panel.setFixedHeight(entry.height)
            if entry.place != "status":  # the window puts those in its status bar
                (left if entry.place == "left" else right).addWidget(panel, entry.stretch)
        right.addWidget(self.explain_button)
        right.addLayout(record_row)
        columns = QHBoxLayout()
        columns.addLayout(left, 13)
        columns.addLayout(right, 6)
        body = QVBoxLayout()
        body.setContentsMargins(6, 4, 6, 4)
        body.addWidget(self.banner)
        body.addLayout(columns, 1)
        return body
