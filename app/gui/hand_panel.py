"""`HandPanel`: the four 50x50 hand crops the model read, enlarged, each with its attention bar.

Slots follow the model's order (left-1, right-1, left-2, right-2; the persons are the prediction's
`body_ids`). With a prediction, each tile is the very crop the glimpse CNN read at the window step
nearest the displayed frame's time, with that step's spatial attention (a still hand's crop is the earlier
one whose features the model reused: the tile says from which frame); before the first prediction,
the displayed frame's own crops (`FrameView.main_crops`, cut off the GUI thread) without a weight. A hand
that is not there (no such person, joint not tracked, no image) is greyed.
"""

from __future__ import annotations

import numpy as np
from PyQt5.QtCore import QSize, Qt
from PyQt5.QtGui import QColor, QPixmap
from PyQt5.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QSizePolicy, QVBoxLayout, QWidget

from sta_hands.app.gui.drawing import HAND_TITLES, attention_colour, nearest_step
from sta_hands.app.gui.widgets import Bar, PlainLabel, bgr_to_pixmap, font
from sta_hands.app.gui.window.view import WindowView

ABSENT_COLOUR = QColor(70, 70, 76)


class HandTile(QFrame):
    """One hand: title, enlarged crop, attention bar and value."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.StyledPanel)
        self.setObjectName("handTile")
        self.title = PlainLabel(title)
        self.title.setFont(font(11, bold=True))
        self.title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # cut, never widen the window
        self.image = PlainLabel()
        self.image.setAlignment(Qt.AlignCenter)
        self.image.setMinimumSize(64, 64)
        self.image.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.bar = Bar(16)
        self.value = PlainLabel("–")
        self.value.setFont(font(13, bold=True))
        self.value.setMinimumWidth(52)
        self.value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.note = PlainLabel("")  # a still hand: which frame's crop the model reused (else empty)
        self.note.setFont(font(9))
        self.note.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        bar_row = QHBoxLayout()
        bar_row.addWidget(self.bar, 1)
        bar_row.addWidget(self.value)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        layout.addWidget(self.title)
        layout.addWidget(self.image, 1)
        layout.addWidget(self.note)
        layout.addLayout(bar_row)
        self.weight: float | None = None
        self.crop: np.ndarray | None = None  # what the tile shows, enlarged
        self.present = False

    def show_hand(
        self, crop: np.ndarray | None, weight: float | None, reused_from: int | None = None, caption: str = ""
    ) -> None:
        """A crop (BGR) and its attention weight; crop None greys the tile, and without a weight too says
        the hand is absent (a pose model's hand relevance shows without a crop: a skeleton without video).
        `reused_from`: the frame of a still hand's crop whose features the model reused; `caption`: what
        the bar is, where it is not the paper's attention ("relevance share")."""
        still = reused_from is not None and crop is not None  # the line stays, empty, so tiles stay equal
        self.note.setText(f"still: crop of frame {reused_from}" if still else caption)
        self.crop = crop
        self.present = crop is not None or weight is not None
        self.weight = weight if self.present else None
        self.setEnabled(self.present)
        side = max(16, min(self.image.width(), self.image.height()))
        if crop is None:
            blank = QPixmap(side, side)
            blank.fill(ABSENT_COLOUR)
            self.image.setPixmap(blank)
            self.image.setText("")
            if weight is None:
                self.bar.set_value(0.0)
                self.value.setText("absent")
                return
        else:
            self.image.setPixmap(bgr_to_pixmap(crop, QSize(side, side), smooth=False))
        if weight is None:
            self.bar.set_value(0.0)
            self.value.setText("–")
        else:
            self.bar.set_value(weight, attention_colour(weight))
            self.value.setText(f"{weight:.2f}")


class HandPanel(QWidget):
    """Four `HandTile`s in a row (or a 2x2 grid)."""

    def __init__(self, columns: int = 4, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tiles = [HandTile(title) for title in HAND_TITLES]
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for i, tile in enumerate(self.tiles):
            layout.addWidget(tile, i // columns, i % columns)

    def show_view(self, view: WindowView) -> None:
        shown, prediction = view.shown, view.prediction
        if shown is None:
            for tile in self.tiles:
                tile.show_hand(None, None)
            return
        if prediction is not None:
            step = nearest_step(prediction, shown.frame.timestamp)
            weights = prediction.spatial_attention[step]
            reused = prediction.crops_reused[step]
            caption = "" if prediction.explanation == "attention" else f"{prediction.explanation} share"
            for slot, tile in enumerate(self.tiles):
                read = prediction.hand_mask[step, slot] > 0
                crop = prediction.crops[step, slot] if read and prediction.crops is not None else None
                source = int(prediction.crop_frames[step, slot]) if reused[slot] else None  # type: ignore[index]
                tile.show_hand(crop, float(weights[slot]) if read else None, source, caption)
            return
        for tile, crop in zip(self.tiles, shown.main_crops, strict=True):
            tile.show_hand(crop, None)
