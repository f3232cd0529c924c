"""What the window draws is the crop the model read: an estimated body's body-scaled crop (not the paper's
50 px) is carried on `Prediction.hand_side_px` (and `--json`), the overlay's hand box on a scaled frame
is that square, and the hand panel's tile before the first prediction is that crop."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from sta_hands.app.gui.drawing import frame_hands, render_overlay, slot_bodies
from sta_hands.app.gui.frame_view import prepare_view
from sta_hands.app.gui.window.view import WindowView
from sta_hands.app.recognizer import classify_window
from sta_hands.contract.frame import Frame
from sta_hands.contract.hand_crop import BODY_SCALED_CROP
from sta_hands.contract.inputs import CROP_SIZE, HAND_SLOTS
from tests.app.conftest import FakeModel, gui_frame

SIZE = (1920, 1080)
SHOWN = (960, 540)  # the window shows the frame at half size
MIN_GREY = 75  # a hand box without attention is grey, a line about one pixel wide (anti-aliased) here


def _estimated_frame(black: bool = False) -> Frame:
    """A frame whose bodies are cropped by the body-scaled rule, as estimated bodies are."""
    frame = gui_frame(20, 40, SIZE)
    image = np.zeros_like(frame.image) if black else frame.image
    return replace(frame, image=image, hand_crop=BODY_SCALED_CROP)


def _region(image: np.ndarray, centre: np.ndarray, side: int) -> np.ndarray:
    """The `side` px square of `image` around `centre` (pixel centres on integers)."""
    x0, y0 = round(float(centre[0])) - side // 2, round(float(centre[1])) - side // 2
    return image[y0 : y0 + side, x0 : x0 + side]


def test_the_prediction_carries_each_crops_side_and_the_crop_is_that_square() -> None:
    frame = _estimated_frame()
    prediction = classify_window(FakeModel(), [replace(frame, index=i) for i in range(20)])
    assert prediction.hand_side_px is not None and prediction.crops is not None
    sides = prediction.hand_side_px[0]
    assert sides[0] == sides[1] != CROP_SIZE and sides[2] == sides[3] != CROP_SIZE  # scaled with the person
    assert frame.image is not None
    for slot in range(4):
        side = int(sides[slot])
        expected = cv2.resize(_region(frame.image, prediction.hand_px[0, slot], side), (CROP_SIZE, CROP_SIZE),
                              interpolation=cv2.INTER_AREA)  # fmt: skip
        assert np.array_equal(prediction.crops[0, slot], expected), f"slot {slot}"
    line = prediction.to_json()
    assert line["hand_side_px"][0] == [int(s) for s in sides]


def test_the_drawn_box_is_the_crop_region_on_a_scaled_frame() -> None:
    frame = _estimated_frame(black=True)
    prediction = classify_window(FakeModel(), [replace(frame, index=i) for i in range(20)])
    assert prediction.hand_side_px is not None
    image = render_overlay(frame, None, SHOWN)  # before any prediction: no attention, thin grey boxes
    scale = SHOWN[0] / SIZE[0]
    channels = image.astype(int)
    grey = (channels[..., 0] == channels[..., 1]) & (channels[..., 1] == channels[..., 2])
    grey &= channels[..., 0] > MIN_GREY  # the skeletons are coloured, the background black
    bodies = slot_bodies(frame, None)
    for slot, (body_index, joint) in enumerate(HAND_SLOTS):
        body = bodies[body_index]
        assert body is not None
        side = float(prediction.hand_side_px[0, slot])
        x, y = body.color_px[joint]
        x0, y0 = (round(x) - side // 2) * scale, (round(y) - side // 2) * scale
        x1, y1 = x0 + side * scale - 1, y0 + side * scale - 1
        # the grey pixels near this hand: its box (hands of one person may share a box's neighbourhood)
        near = np.zeros_like(grey)
        near[int(y0) - 2 : int(y1) + 3, int(x0) - 2 : int(x1) + 3] = True
        ys, xs = np.nonzero(grey & near)
        assert ys.size > 0, f"slot {slot}: no box drawn"
        found = (xs.min(), ys.min(), xs.max(), ys.max())
        assert np.allclose(found, (x0, y0, x1, y1), atol=1.0), (
            f"slot {slot}: box {found}, crop {(x0, y0, x1, y1)}"
        )


def test_the_hand_panel_before_a_prediction_shows_the_crop_the_model_reads(qtbot) -> None:
    from sta_hands.app.gui.hand_panel import HandPanel

    frame = _estimated_frame()
    panel = HandPanel()
    qtbot.addWidget(panel)
    panel.show_view(WindowView(prepare_view(frame, None), None))
    prediction = classify_window(FakeModel(), [replace(frame, index=i) for i in range(20)])
    assert prediction.crops is not None
    hands = frame_hands(frame, None)
    for slot, tile in enumerate(panel.tiles):
        assert hands[slot].side_px != CROP_SIZE
        assert tile.crop is not None and np.array_equal(tile.crop, prediction.crops[0, slot]), f"slot {slot}"


def test_a_still_hands_tile_shows_the_earlier_crop_the_model_read_and_says_from_which_frame(qtbot) -> None:
    from sta_hands.app.gui.hand_panel import HandPanel
    from sta_hands.app.hand_glimpses import STILL_CROP_THRESHOLD
    from sta_hands.app.recognizer import StreamRecognizer
    from tests.app.conftest import moving_frames

    frames = moving_frames(60)  # the left hand is still, the right one rises
    recognizer = StreamRecognizer(
        FakeModel(window_seconds=1.0), lossless=True, still_threshold=STILL_CROP_THRESHOLD
    )
    prediction = [p for frame in frames for p in recognizer.feed([frame])][5]
    panel = HandPanel()
    qtbot.addWidget(panel)
    shown = frames[int(prediction.frame_indices[-1])]
    panel.show_view(WindowView(prepare_view(shown, None), prediction))
    left, right = panel.tiles[:2]
    assert left.note.text() == "still: crop of frame 0" and right.note.text() == ""
    assert np.array_equal(left.crop, prediction.crops[-1, 0])  # frame 0's crop, as the model read it
