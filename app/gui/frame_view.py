"""`FrameView`: what the screen needs of one frame, prepared once off the GUI thread (`prepare_view`, run by
the pipeline's display thread, the recompute worker or the exporter), so that painting it is lookups only.

It holds the image already scaled to the video view, where each body's hands are and the side of the square
each hand's crop is cut from (`contract.inputs.crop_side`), every body by tracking id, and the frame's
own main bodies with their hand crops (what the screen shows before the first prediction). Which bodies
fill the model's slots is the prediction's (`Prediction.body_ids`): a lookup here, never a new rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from sta_hands.app.recognizer import Prediction
from sta_hands.contract.body_slots import BodyIds, bodies_by_id, padded, select_main_bodies
from sta_hands.contract.frame import COLOR_SIZE, NOT_TRACKED, Body, Frame
from sta_hands.contract.inputs import CROP_SIZE, HAND_SLOTS, crop_side, hand_crop

BACKGROUND_BGR = (28, 24, 22)
HANDS_PER_BODY = 2  # HAND_SLOTS: slot k is hand k % 2 (left, right) of body slot k // 2


@dataclass(frozen=True)
class HandPlace:
    """Where a hand is in the colour image (None: not tracked, or no usable position) and the side in
    colour px of the square its crop is cut from."""

    centre: tuple[float, float] | None
    side_px: int = CROP_SIZE


@dataclass(frozen=True, eq=False)
class FrameView:
    frame: Frame
    image: np.ndarray | None  # the colour image scaled to `image_size`; None: no size known yet
    image_size: tuple[int, int]  # (width, height) it fits the video view in
    bodies: Mapping[int, Body]  # by tracking id, the first of each id (`body_slots.bodies_by_id`)
    hands: Mapping[int, tuple[HandPlace, ...]]  # by tracking id: (left, right)
    main_ids: BodyIds  # the frame's own main bodies in slot order: the slots before any prediction
    main_crops: tuple[np.ndarray | None, ...]  # their four hands' crops (None: absent, or no image)

    def slot_ids(self, prediction: Prediction | None) -> BodyIds:
        """The tracking id of each body slot: the prediction's, else this frame's main bodies'."""
        return self.main_ids if prediction is None else padded(prediction.body_ids)

    def slot_bodies(self, prediction: Prediction | None) -> list[Body | None]:
        """The bodies of this frame in the model's slots (None where that body is not in this frame)."""
        return [None if i is None else self.bodies.get(i) for i in self.slot_ids(prediction)]

    def slot_places(self, prediction: Prediction | None) -> list[HandPlace | None]:
        """The four hand slots' places (None: that slot's body is not in this frame)."""
        return _slot_places(self.hands, self.slot_ids(prediction))


def _slot_places(hands: Mapping[int, tuple[HandPlace, ...]], ids: BodyIds) -> list[HandPlace | None]:
    """Slot k is hand k % 2 of the body in slot k // 2."""
    places: list[HandPlace | None] = []
    for b, hand in ((slot // HANDS_PER_BODY, slot % HANDS_PER_BODY) for slot in range(len(HAND_SLOTS))):
        body_id = ids[b]
        places.append(None if body_id is None or body_id not in hands else hands[body_id][hand])
    return places


def source_size(frame: Frame) -> tuple[int, int]:
    """(width, height) of the frame's colour image; Kinect v2's 1920x1080 for a skeleton-only frame."""
    if frame.image is None:
        return COLOR_SIZE
    return frame.image.shape[1], frame.image.shape[0]


def fit_size(source: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest size of `source`'s aspect inside `box` (never larger than `source`), at least 2x2."""
    scale = min(box[0] / source[0], box[1] / source[1], 1.0)
    return max(2, round(source[0] * scale)), max(2, round(source[1] * scale))


def scaled_image(frame: Frame, size: tuple[int, int]) -> np.ndarray:
    """The frame's image resized to `size` (width, height); a dark canvas when it has none."""
    if frame.image is None:
        return np.full((size[1], size[0], 3), BACKGROUND_BGR, dtype=np.uint8)
    image = frame.image
    if (image.shape[1], image.shape[0]) == size:
        return image.copy()
    while image.shape[1] >= 2 * size[0] and image.shape[0] >= 2 * size[1]:  # exact halving: fast and clean
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


def body_hands(frame: Frame, body: Body) -> tuple[HandPlace, ...]:
    """(left, right): where `body`'s hands are in `frame` and the side of their crops' squares."""
    side = crop_side(body, frame.hand_crop)
    places = []
    for _, joint in HAND_SLOTS[:HANDS_PER_BODY]:
        xy = body.color_px[joint]
        usable = body.tracking[joint] != NOT_TRACKED and bool(np.all(np.isfinite(xy)))
        places.append(HandPlace((float(xy[0]), float(xy[1])) if usable else None, side))
    return tuple(places)


def prepare_view(frame: Frame, size: tuple[int, int] | None) -> FrameView:
    """Everything the screen needs of `frame`, its image scaled to fit `size` (None: not scaled yet)."""
    bodies = bodies_by_id(frame.bodies)
    hands = {body_id: body_hands(frame, body) for body_id, body in bodies.items()}
    main_ids = padded(select_main_bodies([frame.bodies]))
    image_size = fit_size(source_size(frame), size) if size is not None else source_size(frame)
    image = scaled_image(frame, image_size) if size is not None else None
    crops = tuple(
        None if place is None or place.centre is None or frame.image is None
        else hand_crop(frame.image, np.asarray(place.centre), place.side_px)
        for place in _slot_places(hands, main_ids)
    )  # fmt: skip
    return FrameView(frame, image, image_size, bodies, hands, main_ids, crops)
