"""Small Qt pieces shared by the panels: a painted bar, BGR -> QPixmap, the message banner, fonts, theme."""

from __future__ import annotations

import html
import logging
from typing import ClassVar

import cv2
import numpy as np
from PyQt5.QtCore import QSize, Qt, QTimer
from PyQt5.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QPalette, QPixmap
from PyQt5.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

log = logging.getLogger(__name__)

BAR_BACKGROUND = QColor(60, 60, 66)


def font(points: float, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSizeF(points)
    f.setBold(bold)
    return f


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """A QImage owning a copy of a BGR uint8 H x W x 3 image."""
    rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format_RGB888).copy()


def bgr_to_pixmap(image: np.ndarray, size: QSize | None = None, smooth: bool = True) -> QPixmap:
    pixmap = QPixmap.fromImage(bgr_to_qimage(image))
    if size is not None:
        mode = Qt.SmoothTransformation if smooth else Qt.FastTransformation
        pixmap = pixmap.scaled(size, Qt.KeepAspectRatio, mode)
    return pixmap


class Bar(QWidget):
    """A horizontal bar for a value in [0, 1], painted (cheap to update at frame rate)."""

    def __init__(self, height: int = 18, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value = 0.0
        self.colour = QColor(255, 165, 0)
        self.setMinimumHeight(height)
        self.setMinimumWidth(40)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setFixedHeight(height)

    def set_value(self, value: float, colour: QColor | tuple[int, int, int] | None = None) -> None:
        value = float(np.clip(value, 0.0, 1.0)) if np.isfinite(value) else 0.0
        new_colour = QColor(*colour) if isinstance(colour, tuple) else colour or self.colour
        if value != self.value or new_colour != self.colour:
            self.value, self.colour = value, new_colour
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.rect()
        painter.fillRect(rect, BAR_BACKGROUND)
        if self.value > 0:
            filled = rect.adjusted(0, 0, -round(rect.width() * (1.0 - self.value)), 0)
            colour = self.colour if self.isEnabled() else QColor(110, 110, 110)
            painter.fillRect(filled, colour)
        painter.end()


class PlainLabel(QLabel):
    """A QLabel that shows its text as written, never as rich text: class names, file names and error
    messages come from files the app does not control, and a class named `<img src=...>` would otherwise
    be rendered (Qt guesses rich text from a tag)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.PlainText)


def plain_text_dialog(parent: QWidget | None, title: str, label: str, text: str = "") -> QInputDialog:
    """A one-line text question whose prompt shows `label` as written (it names a file or an action the
    user or a file chose; QInputDialog's own label guesses rich text from a tag)."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextValue(text)
    for child in dialog.findChildren(QLabel):
        child.setTextFormat(Qt.PlainText)
    return dialog


def plain_tooltip(text: str) -> str:
    """`text` as a tooltip that shows it as written (a tooltip with a tag in it is read as rich text)."""
    return f"<qt>{html.escape(text)}</qt>" if text else ""


class Banner(QWidget):
    """A message across the top of the window (an error in red, a notice in blue) with a close button.

    Never modal: the window keeps drawing while it shows. Errors stay until closed; notices hide
    after `notice_ms`.
    """

    STYLES: ClassVar[dict[str, str]] = {
        "error": "background:#8b1e1e; color:white;",
        "info": "background:#1e4f8b; color:white;",
    }

    def __init__(self, parent: QWidget | None = None, notice_ms: int = 8000) -> None:
        super().__init__(parent)
        self.kind = ""
        self.notice_ms = notice_ms
        self.label = PlainLabel()
        self.label.setWordWrap(True)
        self.label.setFont(font(13, bold=True))
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        close = QPushButton("✕")
        close.setFlat(True)
        close.setFocusPolicy(Qt.NoFocus)
        close.setStyleSheet("color:white; font-size:16pt; border:none; padding:0 8px;")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.setAttribute(Qt.WA_StyledBackground, True)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        self.kind = kind
        self.setStyleSheet(self.STYLES.get(kind, self.STYLES["info"]))
        self.label.setText(text)
        self.show()
        if kind == "error":
            self._timer.stop()
        else:
            self._timer.start(self.notice_ms)

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()


def apply_theme(app: QApplication) -> None:
    """Fusion with a dark palette and large type: readable on a projector."""
    app.setStyle("Fusion")
    palette = QPalette()
    colours = {
        QPalette.Window: QColor(34, 34, 40),
        QPalette.WindowText: QColor(235, 235, 235),
        QPalette.Base: QColor(24, 24, 30),
        QPalette.AlternateBase: QColor(40, 40, 48),
        QPalette.Text: QColor(235, 235, 235),
        QPalette.Button: QColor(50, 50, 58),
        QPalette.ButtonText: QColor(235, 235, 235),
        QPalette.Highlight: QColor(255, 140, 40),
        QPalette.HighlightedText: QColor(0, 0, 0),
        QPalette.ToolTipBase: QColor(250, 250, 230),
        QPalette.ToolTipText: QColor(0, 0, 0),
    }
    for role, colour in colours.items():
        palette.setColor(role, colour)
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        palette.setColor(QPalette.Disabled, role, QColor(120, 120, 120))
    app.setPalette(palette)
    app.setFont(font(12))
