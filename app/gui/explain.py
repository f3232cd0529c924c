""" "Explain this moment": the window's 20 frames as a strip, with when and where the model looked.

`explain_sentence` and `streams_sentence` are pure functions (tested on their own); `ExplainDialog`
lays out, for each of the window's frames, a small picture from the session's `FrameCache` with a box
on the hand that took the attention, that hand's crop, and the temporal attention as a bar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PyQt5.QtCore import QSize, Qt
from PyQt5.QtGui import QColor, QPixmap
from PyQt5.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QVBoxLayout,
    QWidget,
)

from sta_hands.app.attention_note import attention_training_sentence
from sta_hands.app.faithfulness_note import faithfulness_sentence
from sta_hands.app.gui.drawing import HAND_SHORT_NAMES, attention_colour, bgr
from sta_hands.app.gui.frame_cache import FrameCache, Thumbnail
from sta_hands.app.gui.widgets import Bar, PlainLabel, bgr_to_pixmap, font
from sta_hands.app.recognizer import Prediction
from sta_hands.app.relevance import relevance_sentence
from sta_hands.contract.inputs import CROP_SIZE, HAND_NAMES

CELL_COLUMNS = 10
THUMB_SIZE = QSize(108, 61)
CROP_VIEW = QSize(64, 64)


@dataclass(frozen=True)
class Focus:
    """Where and when the model looked in one window."""

    hand: int | None  # slot of the most attended hand over the window, None when no hand was seen
    step: int  # window step with the highest temporal attention
    time: float  # its timestamp, seconds
    hand_weights: np.ndarray  # 4: spatial attention averaged over time with the temporal weights
    hand_per_step: np.ndarray  # T: the most attended hand at each step (-1 where none was present)


def focus(prediction: Prediction) -> Focus:
    spatial = prediction.spatial_attention * prediction.hand_mask  # T x 4
    temporal = prediction.temporal_attention  # T
    weights = (temporal[:, None] * spatial).sum(axis=0)
    present = prediction.hand_mask.any(axis=0)
    hand = int(np.argmax(np.where(present, weights, -1.0))) if present.any() else None
    step = int(np.argmax(temporal))
    per_step = np.where(prediction.hand_mask.any(axis=1), np.argmax(spatial, axis=1), -1)
    return Focus(hand, step, float(prediction.timestamps[step]), weights, per_step)


def explain_sentence(prediction: Prediction) -> str:
    """One sentence for a non-expert: what the model said, which hand it looked at, and when."""
    if not prediction.classified:
        return "No one was in view, so the model named no action."
    name, probability = prediction.top(1)[0]
    where = focus(prediction)
    said = f"The model said '{name}' ({probability:.0%})."
    if prediction.joint_relevance is not None:  # a pose model: its class relevance, not attention
        where_when = relevance_sentence(prediction.joint_relevance, prediction.temporal_attention,
                                        prediction.timestamps)  # fmt: skip
        return f"{said} Its relevance for that class was {where_when}."
    if where.hand is None:
        return f"{said} It saw no hands, so it went by the body's movement, mostly around {where.time:.1f} s."
    return f"{said} It looked mostly at the {HAND_NAMES[where.hand]}, around {where.time:.1f} s."


def streams_sentence(prediction: Prediction) -> str:
    """What each stream alone would have said, in words (or that one stream had nothing to read)."""
    if not prediction.classified:
        return "Nothing to read: no body in these frames."
    pose = int(np.argmax(prediction.pose_probabilities))
    if prediction.model_streams == ("pose",):
        return "A pose-only model: it read the body joints alone, not the hand images."
    if prediction.streams == ("pose",):
        missing = "There was no video" if prediction.crops is None else "No hand was in view"
        return (
            f"{missing}, so only the body's movement counted: '{prediction.class_names[pose]}' "
            f"({prediction.pose_probabilities[pose]:.0%})."
        )
    rgb = int(np.argmax(prediction.rgb_probabilities))
    pose_text = f"'{prediction.class_names[pose]}' ({prediction.pose_probabilities[pose]:.0%})"
    rgb_text = f"'{prediction.class_names[rgb]}' ({prediction.rgb_probabilities[rgb]:.0%})"
    if pose == rgb:
        return (
            f"The body's movement and the hand images agree: both point to '{prediction.class_names[pose]}'."
        )
    return f"The body's movement alone suggests {pose_text}; the hand images alone, {rgb_text}."


class FrameCell(QFrame):
    """One window step: picture with the attended hand boxed, the hand's crop, the temporal bar."""

    def __init__(self, step: int, prediction: Prediction, thumbnail: Thumbnail | None, hand: int,
                 peak: bool) -> None:  # fmt: skip
        super().__init__()
        self.setFrameShape(QFrame.StyledPanel)
        if peak:
            self.setStyleSheet("FrameCell { border: 3px solid #ff7a3d; }")
        weight = float(prediction.temporal_attention[step])
        time = PlainLabel(f"{prediction.timestamps[step]:.2f} s")
        time.setFont(font(10))
        picture, crop = PlainLabel(), PlainLabel()
        picture.setAlignment(Qt.AlignCenter)
        crop.setAlignment(Qt.AlignCenter)
        picture.setPixmap(_thumbnail_pixmap(thumbnail, prediction, step, hand))
        crop.setPixmap(_crop_pixmap(prediction, step, hand))
        bar = Bar(10)
        bar.set_value(weight / max(float(prediction.temporal_attention.max()), 1e-6), QColor(255, 165, 0))
        who = HAND_SHORT_NAMES[hand] if hand >= 0 else "no hand"
        spatial = float(prediction.spatial_attention[step, hand]) if hand >= 0 else 0.0
        value = PlainLabel(f"{weight:.2f} · {who} {spatial:.0%}" if hand >= 0 else f"{weight:.2f} · {who}")
        value.setFont(font(10, bold=peak))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(3, 3, 3, 3)
        layout.setSpacing(2)
        for widget in (time, picture, crop, bar, value):
            layout.addWidget(widget)
        self.weight, self.hand = weight, hand


def _thumbnail_pixmap(thumbnail: Thumbnail | None, prediction: Prediction, step: int, hand: int) -> QPixmap:
    if thumbnail is None or thumbnail.image is None:
        blank = QPixmap(THUMB_SIZE)
        blank.fill(QColor(50, 50, 56))
        return blank
    image = thumbnail.image.copy()
    if hand >= 0:
        x, y = prediction.hand_px[step, hand] * thumbnail.scale
        half = max(CROP_SIZE * thumbnail.scale / 2, 6)
        colour = bgr(attention_colour(float(prediction.spatial_attention[step, hand])))
        cv2.rectangle(
            image, (round(x - half), round(y - half)), (round(x + half), round(y + half)), colour, 2
        )
    return bgr_to_pixmap(image, THUMB_SIZE)


def _crop_pixmap(prediction: Prediction, step: int, hand: int) -> QPixmap:
    """The very crop the model read for that hand at that step."""
    crop = prediction.crops[step, hand] if prediction.crops is not None and hand >= 0 else None
    if crop is None:
        blank = QPixmap(CROP_VIEW)
        blank.fill(QColor(50, 50, 56))
        return blank
    return bgr_to_pixmap(crop, CROP_VIEW, smooth=False)


class ExplainDialog(QDialog):
    """The window's frames side by side; not modal, so the main window keeps drawing."""

    def __init__(
        self,
        prediction: Prediction,
        cache: FrameCache,
        parent: QWidget | None = None,
        faithfulness: Mapping[str, Any] | None = None,
        trained_on: str = "",
    ) -> None:
        """`faithfulness`: the model folder's figures (`app.faithfulness_note`), said in one sentence;
        `trained_on`: the model's metadata, which says whether its attention was supervised
        (`app.attention_note`)."""
        super().__init__(parent)
        self.setWindowTitle("Explain this moment")
        self.prediction = prediction
        where = focus(prediction)
        self.sentence = PlainLabel(explain_sentence(prediction))
        self.sentence.setWordWrap(True)
        self.sentence.setFont(font(18, bold=True))
        self.streams = PlainLabel(streams_sentence(prediction))
        self.streams.setWordWrap(True)
        self.streams.setFont(font(13))
        faithful = faithfulness_sentence(faithfulness) if prediction.classified else None
        self.faithfulness = PlainLabel(faithful or "")
        self.faithfulness.setWordWrap(True)
        self.faithfulness.setFont(font(11))
        self.faithfulness.setVisible(faithful is not None)
        taught = attention_training_sentence(trained_on) if prediction.classified else None
        self.attention_training = PlainLabel(taught or "")
        self.attention_training.setWordWrap(True)
        self.attention_training.setFont(font(11))
        self.attention_training.setVisible(taught is not None)
        hands = ", ".join(f"{HAND_SHORT_NAMES[h]} {w:.0%}" for h, w in enumerate(where.hand_weights))
        what = prediction.explanation  # "attention", or a pose model's "relevance"
        legend = PlainLabel(
            f"Below: the {len(prediction.timestamps)} frames the model read, left to right. "
            f"The bar is how much each frame counted (temporal {what}); the box and the close-up show "
            f"the hand with the most {what} in that frame. {what.capitalize()} per hand over the window: "
            f"{hands}."
        )
        legend.setWordWrap(True)
        legend.setFont(font(11))
        grid = QGridLayout()
        grid.setSpacing(4)
        self.cells: list[FrameCell] = []
        for step, index in enumerate(prediction.frame_indices):
            cell = FrameCell(step, prediction, cache.get(int(index)), int(where.hand_per_step[step]),
                             step == where.step)  # fmt: skip
            grid.addWidget(cell, step // CELL_COLUMNS, step % CELL_COLUMNS)
            self.cells.append(cell)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.sentence)
        layout.addWidget(self.streams)
        layout.addWidget(self.faithfulness)
        layout.addWidget(self.attention_training)
        layout.addWidget(legend)
        layout.addLayout(grid)
        layout.addWidget(buttons)
