"""`VideoView`: the frame scaled to the widget, with skeletons and attention-coloured hand boxes.

The 1920x1080 frame comes downscaled with OpenCV to the displayed size (by the pipeline's display
thread, in the view's `FrameView`; here only for the first frame after a resize), the overlay is drawn at
that size by `drawing.paint_overlay` (the exported video uses the same function), and one `ImageItem`
(row-major) is updated in place.
"""

from __future__ import annotations

import cv2
import pyqtgraph as pg
from PyQt5.QtCore import QRectF
from PyQt5.QtWidgets import QVBoxLayout, QWidget

from sta_hands.app.gui.drawing import paint_overlay
from sta_hands.app.gui.window.view import WindowView

PLACEHOLDER = "Open a clip: File › Open, drop a file here, or File › Demo"


class VideoView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground((18, 18, 22))
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        self.view = self.graphics.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.view.setMenuEnabled(False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image_item)
        self.placeholder = pg.TextItem(PLACEHOLDER, color=(200, 200, 200), anchor=(0.5, 0.5))
        self.placeholder.setFont(self.font())
        self.view.addItem(self.placeholder)
        self.view.setRange(QRectF(0, 0, 1600, 900), padding=0)
        self.placeholder.setPos(800, 450)
        self.image_shape: tuple[int, ...] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self.setMinimumSize(320, 180)

    def display_size(self) -> tuple[int, int]:
        """The view's size in device pixels (what the frame is scaled to)."""
        ratio = self.devicePixelRatioF()
        rect = self.view.sceneBoundingRect()
        return max(2, round(rect.width() * ratio)), max(2, round(rect.height() * ratio))

    def show_view(self, view: WindowView) -> None:
        """Draw the shown frame with the overlays of the prediction; no frame clears to the placeholder."""
        if view.shown is None:
            self.image_item.clear()
            self.image_shape = None
            self.placeholder.show()
            return
        self.placeholder.hide()
        overlay = paint_overlay(view.shown, view.prediction, self.display_size())
        image = cv2.cvtColor(overlay, cv2.COLOR_BGR2RGB)
        self.image_item.setImage(image, autoLevels=False, levels=(0, 255))
        if image.shape != self.image_shape:
            self.image_shape = image.shape
            self.view.setRange(QRectF(0, 0, image.shape[1], image.shape[0]), padding=0)

    def set_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
