"""Pure drawing with OpenCV: the annotated frame that the video view shows and the exported video keeps.

Everything here works on BGR uint8 images (OpenCV's order, as `Frame.image`) and needs no Qt:
- `render_overlay` (`paint_overlay` for a `frame_view.FrameView` prepared off the GUI thread, as the
  video view paints it): the frame scaled to a size, the Kinect skeletons, and a box around each hand
  whose colour and thickness follow its spatial attention (grey and thin -> orange -> red and thick);
  the box is the square the hand's crop is cut from (`contract.inputs.crop_side`: 50 px for Kinect
  bodies, scaled with the person for estimated ones), so what is drawn is what the model read;
- with a pose model's prediction, the joints of the model's people tinted by their class relevance;
- `render_strip`: a band under the frame with the winning class and one attention bar per hand;
- `render_annotated`: both stacked, one frame of the exported video.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from sta_hands.app.gui.frame_view import (
    BACKGROUND_BGR,
    FrameView,
    fit_size,
    prepare_view,
    scaled_image,
    source_size,
)
from sta_hands.app.recognizer import Prediction
from sta_hands.contract.frame import BONES, NOT_TRACKED, TRACKED, Body, Frame
from sta_hands.contract.inputs import CROP_SIZE, HAND_SLOTS

RGB = tuple[int, int, int]

HAND_SHORT_NAMES: tuple[str, ...] = ("L1", "R1", "L2", "R2")
HAND_TITLES: tuple[str, ...] = (
    "Person 1 · left hand",
    "Person 1 · right hand",
    "Person 2 · left hand",
    "Person 2 · right hand",
)
BODY_COLOURS: tuple[RGB, ...] = ((90, 200, 255), (130, 240, 130))  # person 1 sky blue, person 2 green
_OTHER_BODY: RGB = (120, 120, 120)  # a body the model does not read (a third person, furniture)
_LOW: RGB = (150, 150, 150)  # no attention: grey
_MID: RGB = (255, 165, 0)  # half: orange
_HIGH: RGB = (255, 30, 30)  # all of it: red
DRAW_REACH = 4  # joints and hands further than this many image sizes from the origin are not drawn


def attention_colour(weight: float) -> RGB:
    """RGB for a spatial attention weight in [0, 1]: grey -> orange at 0.5 -> red at 1."""
    w = float(np.clip(weight, 0.0, 1.0)) if np.isfinite(weight) else 0.0
    low, high, f = (_LOW, _MID, w / 0.5) if w < 0.5 else (_MID, _HIGH, (w - 0.5) / 0.5)
    return tuple(round(a + (b - a) * f) for a, b in zip(low, high, strict=True))  # type: ignore[return-value]


def bgr(colour: RGB) -> tuple[int, int, int]:
    return colour[2], colour[1], colour[0]


def attention_thickness(weight: float, unit: int = 1) -> int:
    """Line width for a weight: `unit` at 0, 7 `unit`s at 1."""
    w = float(np.clip(weight, 0.0, 1.0)) if np.isfinite(weight) else 0.0
    return max(1, round(unit * (1.0 + 6.0 * w)))


def nearest_step(prediction: Prediction, timestamp: float) -> int:
    """The window step whose frame is closest in time to `timestamp`."""
    return int(np.argmin(np.abs(prediction.timestamps - timestamp)))


def attention_at(prediction: Prediction | None, timestamp: float) -> np.ndarray:
    """Spatial attention (4: left-1, right-1, left-2, right-2) at the window step nearest `timestamp`.

    Absent hands weigh 0; without a prediction every weight is 0.
    """
    if prediction is None:
        return np.zeros(len(HAND_SLOTS), dtype=np.float32)
    step = nearest_step(prediction, timestamp)
    return (prediction.spatial_attention[step] * prediction.hand_mask[step]).astype(np.float32)


@dataclass(frozen=True)
class HandView:
    """One hand slot in the displayed frame: where it is (colour px), the side of the square its crop is cut
    from (colour px) and how much attention it has."""

    slot: int
    centre: tuple[float, float] | None  # None when absent
    weight: float
    side_px: int = CROP_SIZE

    def box(self) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1), end exclusive: the colour pixels the crop is cut from (as `crop_at` cuts them),
        None when absent."""
        if self.centre is None:
            return None
        x0 = round(self.centre[0]) - self.side_px // 2
        y0 = round(self.centre[1]) - self.side_px // 2
        return x0, y0, x0 + self.side_px, y0 + self.side_px

    @property
    def present(self) -> bool:
        return self.centre is not None


def hand_views(view: FrameView, prediction: Prediction | None) -> list[HandView]:
    """The four hand slots of the frame in `view`: slot k is hand k % 2 of the body in slot k // 2 (the
    prediction's bodies, else the frame's main ones), weighted by the prediction's attention there."""
    weights = attention_at(prediction, view.frame.timestamp)
    views = []
    for slot, place in enumerate(view.slot_places(prediction)):
        centre, side = (None, CROP_SIZE) if place is None else (place.centre, place.side_px)
        views.append(HandView(slot, centre, float(weights[slot]) if centre is not None else 0.0, side))
    return views


def slot_bodies(frame: Frame, prediction: Prediction | None) -> list[Body | None]:
    """The bodies of `frame` in the model's slots (`FrameView.slot_bodies`)."""
    return prepare_view(frame, None).slot_bodies(prediction)


def frame_hands(frame: Frame, prediction: Prediction | None) -> list[HandView]:
    """The four hand slots of `frame` (`hand_views` of a view prepared here: for the exporter and tests;
    the window paints views prepared off its thread)."""
    return hand_views(prepare_view(frame, None), prediction)


def draw_skeleton(image: np.ndarray, body: Body, scale: float, colour: RGB, unit: int = 1) -> None:
    """Kinect bones in place: skip a bone when a joint is not tracked or both are only inferred; bones
    touching an inferred joint, and inferred joints, are drawn thinner and dimmer.

    Four OpenCV calls per body whatever its size (each call releases and retakes the GIL, so fewer
    calls keep the GUI thread from queueing behind the worker threads).
    """
    px = body.color_px * scale
    ok = _drawable(px, image) & (body.tracking != NOT_TRACKED)
    tracked = ok & (body.tracking == TRACKED)
    points = np.round(np.where(ok[:, None], px, 0.0)).astype(np.int32)
    colour_bgr, dim_bgr = bgr(colour), bgr(tuple(c // 2 + 40 for c in colour))  # type: ignore[arg-type]
    full, thin = [], []
    for a, b in BONES:
        if ok[a] and ok[b] and (tracked[a] or tracked[b]):
            (full if tracked[a] and tracked[b] else thin).append(points[[a, b]])
    dots = [points[[j, j]] for j in np.nonzero(tracked)[0]]  # a zero-length thick line is a round dot
    small_dots = [points[[j, j]] for j in np.nonzero(ok & ~tracked)[0]]
    strokes = ((full, colour_bgr, 3 * unit), (thin, dim_bgr, unit), (dots, colour_bgr, 7 * unit),
               (small_dots, dim_bgr, 4 * unit))  # fmt: skip
    for segments, bgr_colour, width in strokes:
        if segments:
            cv2.polylines(image, segments, False, bgr_colour, width, cv2.LINE_AA)


def joint_relevance_at(prediction: Prediction | None) -> np.ndarray | None:
    """A pose model's relevance per joint (2 slots x 25) over its window (where it found its evidence; the
    curve says when), from 0 at the median joint's to 1 at the most relevant joint's (a graph network
    spreads some relevance on every joint: what stands out is what is above the typical joint); None for a
    prediction without relevance. Over the window, not at the displayed frame: that is the window's last
    step, where a temporal network's relevance fades."""
    if prediction is None or prediction.joint_relevance is None or not prediction.classified:
        return None
    total = prediction.joint_relevance.sum(axis=0)
    typical, top = float(np.median(total[total > 0])) if (total > 0).any() else 0.0, float(total.max())
    return np.clip((total - typical) / (top - typical), 0.0, 1.0) if top > typical else None


def draw_joint_relevance(
    image: np.ndarray, body: Body, scale: float, weights: np.ndarray, unit: int = 1
) -> None:
    """Each joint of `body` tinted and sized by its relevance (`joint_relevance_at`, 25 values in [0, 1]):
    grey and small -> orange -> red and large, as the hand boxes are for attention; the least not at all."""
    px = body.color_px * scale
    shown = _drawable(px, image) & (body.tracking != NOT_TRACKED) & (weights >= 0.05)
    for joint in np.argsort(weights):  # the most relevant on top
        if shown[joint]:
            weight = float(weights[joint])
            radius = round(unit * (3 + 12 * weight))
            cv2.circle(image, _point(px[joint]), radius, bgr(attention_colour(weight)), -1, cv2.LINE_AA)


def draw_hand_boxes(
    image: np.ndarray, hands: Sequence[HandView], scale: float, unit: int = 1, word: str = ""
) -> None:
    """Around each present hand the square its crop is cut from (`HandView.box`), in the image scaled by
    `scale`; the most attended one on top, labelled with its weight (and `word`, e.g. "relevance", where
    the weight is not the paper's attention)."""
    present = sorted((h for h in hands if h.centre is not None), key=lambda h: h.weight)
    present = [h for h in present if _drawable(np.array([h.centre], dtype=np.float64) * scale, image)[0]]
    for rank, hand in enumerate(present):
        box = hand.box()
        assert box is not None
        colour = bgr(attention_colour(hand.weight))
        top_left = _point((box[0] * scale, box[1] * scale))
        bottom_right = _point((box[2] * scale - 1, box[3] * scale - 1))  # cv2.rectangle: inclusive corners
        cv2.rectangle(
            image, top_left, bottom_right, colour, attention_thickness(hand.weight, unit), cv2.LINE_AA
        )
        if rank == len(present) - 1 and hand.weight > 0:
            _label(image, f"{HAND_SHORT_NAMES[hand.slot]} {hand.weight:.0%}{word}", top_left, colour, unit)


def render_overlay(frame: Frame, prediction: Prediction | None, size: tuple[int, int]) -> np.ndarray:
    """The frame scaled to fit `size` (width, height), with skeletons and attention-coloured hand boxes."""
    return paint_overlay(prepare_view(frame, size), prediction, size)


def paint_overlay(view: FrameView, prediction: Prediction | None, size: tuple[int, int]) -> np.ndarray:
    """`render_overlay` of a prepared view: its scaled image when it fits `size` (else scaled here, e.g.
    for the first frame after the view was resized), then the skeletons and boxes painted on a copy."""
    frame = view.frame
    out_size = fit_size(source_size(frame), size)
    if view.image is not None and view.image_size == out_size:
        image = view.image.copy()
    else:
        image = scaled_image(frame, out_size)
    scale = out_size[0] / source_size(frame)[0]
    unit = max(1, round(out_size[1] / 400))
    slots = view.slot_bodies(prediction)
    relevance = joint_relevance_at(prediction)
    for body in frame.bodies:  # the model's people in their slot's colour, anyone else in grey
        slot = next((b for b, used in enumerate(slots) if used is body), None)
        draw_skeleton(image, body, scale, _OTHER_BODY if slot is None else BODY_COLOURS[slot], unit)
        if relevance is not None and slot is not None:
            draw_joint_relevance(image, body, scale, relevance[slot], unit)
    word = "" if prediction is None or prediction.explanation == "attention" else f" {prediction.explanation}"
    draw_hand_boxes(image, hand_views(view, prediction), scale, unit, word)
    return image


def render_strip(frame: Frame, prediction: Prediction | None, width: int) -> np.ndarray:
    """A band (width x about width/9) with the winning class and one attention bar per hand slot."""
    height = max(60, width // 9)
    strip = np.full((height, width, 3), BACKGROUND_BGR, dtype=np.uint8)
    font_scale = height / 90.0
    if prediction is None or not prediction.classified:
        words = "no prediction yet" if prediction is None else "no one in view"
        _text(strip, words, (12, int(height * 0.62)), font_scale, (200, 200, 200))
        return strip
    name, probability = prediction.top(1)[0]
    _text(strip, f"{name}  {probability:.0%}", (12, int(height * 0.62)), font_scale * 1.1, (255, 255, 255))
    if remark := prediction.remark:
        _text(strip, remark, (12, int(height * 0.9)), font_scale * 0.5, (200, 200, 200))
    weights = attention_at(prediction, frame.timestamp)
    bars_left, bar_width = int(width * 0.55), int(width * 0.45 / 4)
    if prediction.explanation != "attention":  # the bars are not the paper's attention: say what they are
        _text(strip, f"hands' {prediction.explanation}", (bars_left - int(width * 0.14), int(height * 0.9)),
              font_scale * 0.5, (200, 200, 200))  # fmt: skip
    for slot, weight in enumerate(weights):
        x0 = bars_left + slot * bar_width + 6
        x1 = x0 + bar_width - 12
        top, bottom = int(height * 0.15), int(height * 0.62)
        filled = bottom - int((bottom - top) * float(weight))
        cv2.rectangle(strip, (x0, top), (x1, bottom), (70, 70, 70), -1)
        cv2.rectangle(strip, (x0, filled), (x1, bottom), bgr(attention_colour(float(weight))), -1)
        _text(strip, f"{HAND_SHORT_NAMES[slot]} {weight:.2f}", (x0, int(height * 0.9)), font_scale * 0.55,
              (220, 220, 220))  # fmt: skip
    return strip


def render_annotated(frame: Frame, prediction: Prediction | None, width: int) -> np.ndarray:
    """One frame of the exported video: the overlay at `width` (even size) above the strip."""
    source = source_size(frame)
    height = round(width * source[1] / source[0])
    overlay = render_overlay(frame, prediction, (width, height))
    if overlay.shape[1] != width:  # a source smaller than `width`: scale it up to keep the size fixed
        overlay = cv2.resize(overlay, (width, height), interpolation=cv2.INTER_LINEAR)
    image = np.vstack([overlay, render_strip(frame, prediction, width)])
    return image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2]


def warm_up() -> None:
    """OpenCV loads its text font at the first use (about 20 ms): do it at start, not at the first label."""
    cv2.getTextSize("0", cv2.FONT_HERSHEY_SIMPLEX, 1.0, 1)


def _drawable(px: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Per N x 2 point: finite and within a few image sizes of the image. A point further out (a corrupt
    file's 1e30 px) cannot be on screen, and OpenCV's int32 coordinates could not take it."""
    reach = DRAW_REACH * max(image.shape[0], image.shape[1])
    with np.errstate(invalid="ignore"):
        return np.all(np.isfinite(px) & (np.abs(px) <= reach), axis=1)


def _point(xy: Sequence[float] | np.ndarray) -> tuple[int, int]:
    return round(float(xy[0])), round(float(xy[1]))


def _text(
    image: np.ndarray, text: str, origin: tuple[int, int], scale: float, colour: tuple[int, int, int]
) -> None:
    thickness = max(1, round(scale * 2))
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)


def _label(
    image: np.ndarray, text: str, anchor: tuple[int, int], colour: tuple[int, int, int], unit: int
) -> None:
    """`text` on a filled tag just above `anchor` (the box's top-left corner)."""
    scale = 0.55 * unit + 0.15
    thickness = max(1, unit)
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x, y = anchor[0], max(anchor[1] - 4, h + base + 4)
    cv2.rectangle(image, (x, y - h - base - 4), (x + w + 8, y), colour, -1)
    cv2.putText(image, text, (x + 4, y - base - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness,
                cv2.LINE_AA)  # fmt: skip
