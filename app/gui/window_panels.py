"""`WindowPanels`: the main window's central area, laid out to read at 1280x720 and 1920x1080.

The video with the replay controls and the four hand crops under it on the left; the top classes, the
temporal attention curve and the Explain / Record buttons on the right; an error / notice banner across
the top. It holds the panels; the window wires them to the session.
"""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.gui.hand_panel import HandPanel
from app.gui.temporal_curve import TemporalCurve
from app.gui.top_classes import TopClasses
from app.gui.transport import TransportBar
from app.gui.video_view import VideoView
from app.gui.widgets import Banner, PlainLabel, font

RECORD, STOP_RECORDING = "●  Record  (R)", "■  Stop recording  (R)"


class WindowPanels(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.banner = Banner()
        self.video = VideoView()
        self.transport = TransportBar()
        self.hands = HandPanel(columns=4)
        self.top = TopClasses()
        self.curve = TemporalCurve()
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

    def _body(self) -> QVBoxLayout:
        record_row = QHBoxLayout()
        record_row.addWidget(self.record_button, 1)
        record_row.addWidget(self.rec_indicator)
        left = QVBoxLayout()
        left.setSpacing(4)
        left.addWidget(self.video, 1)
        left.addWidget(self.transport)
        left.addWidget(self.hands)
        self.hands.setFixedHeight(170)
        right = QVBoxLayout()
        right.setSpacing(6)
        right.addWidget(self.top, 3)
        right.addWidget(self.curve, 3)
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
