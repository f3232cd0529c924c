"""Frames -> the model's raw inputs. The one place this happens, for training, evaluation and the app.

Torch-free numpy. What belongs to the model itself (centring on SpineMid, velocity, acceleration,
motion statistics) is computed inside the network and its exported head graph, not here.

- which two bodies: the dataset authors' main-body selection over the frames given
  (`contract.body_slots`), in slot order;
- the pose: T x 150 float32, [body][joint][x, y, z] in camera metres, an absent body all zeros
  (and so is a non-finite or implausible value: beyond +-100 m);
- the hands: left-1, right-1, left-2, right-2 (Kinect HandLeft / HandRight of the two bodies),
  a square crop around each in the colour image, padded with black where it leaves the image, its side
  given by the frame's `HandCrop` rule (the paper's 50 px, or scaled with the person's size in the
  image: `contract.hand_crop`) and resampled to 50x50 px, and a mask that is 0 for a hand that is
  not there (no such body, joint not tracked or not finite, or a crop that misses the image entirely);
- the glimpse batch: crops resized to the backbone's input size, RGB, normalised, N x 3 x S x S.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from sta_hands.contract.body_slots import (
    NUM_BODIES,
    PLAUSIBLE_METRES,
    BodyIds,
    bodies_by_slot,
    padded,
    select_main_bodies,
)
from sta_hands.contract.frame import HAND_LEFT, HAND_RIGHT, JOINT, NOT_TRACKED, NUM_JOINTS, Body, Frame
from sta_hands.contract.hand_crop import PAPER_SIZE_PX, HandCrop

NUM_HANDS = 4
POSE_DIM = NUM_BODIES * NUM_JOINTS * 3  # 150
CROP_SIZE = PAPER_SIZE_PX  # paper section 3: 50x50 px glimpses around each hand (what the model reads)
TORSO = (JOINT["SpineBase"], JOINT["SpineShoulder"])  # the body length a `HandCrop` scales with
POSE_LIMIT = PLAUSIBLE_METRES  # larger camera-space values (metres) are corrupt data: 0, like NaN
HAND_SLOTS: tuple[tuple[int, int], ...] = ((0, HAND_LEFT), (0, HAND_RIGHT), (1, HAND_LEFT), (1, HAND_RIGHT))
HAND_NAMES: tuple[str, ...] = (
    "left hand of person 1",
    "right hand of person 1",
    "left hand of person 2",
    "right hand of person 2",
)


@dataclass(frozen=True)
class WindowInputs:
    """The raw inputs of one window of T frames."""

    pose: np.ndarray  # T x 150 float32
    hand_mask: np.ndarray  # T x 4 float32, 1 present / 0 absent
    hand_px: np.ndarray  # T x 4 x 2 float32, hand centres in colour pixels (0 where absent)
    crops: np.ndarray | None  # T x 4 x 50 x 50 x 3 uint8 BGR, None when the frames have no images
    body_ids: BodyIds  # tracking id of the body in each slot (None: empty), slot order
    hand_side_px: (
        np.ndarray
    )  # T x 4 float32, the side in colour pixels of each crop's square (0 where absent)


def segment_indices(num_frames: int, length: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """`length` frame indices, one per equal segment of the clip (the NTU authors' sampling).

    With `rng` each index is drawn at random inside its segment (training); without, the middle
    of each segment (a deterministic test view). Short clips repeat frames.
    """
    if num_frames <= 0:
        raise ValueError("a window needs at least one frame")
    edges = np.linspace(0.0, num_frames, length + 1)
    if rng is None:
        positions = (edges[:-1] + edges[1:]) / 2.0
    else:
        positions = edges[:-1] + rng.random(length) * (edges[1:] - edges[:-1])
    return np.minimum(np.floor(positions).astype(np.int64), num_frames - 1)


def window_grid_step(window_seconds: float, length: int) -> float:
    """Seconds between two samples of a live window."""
    return window_seconds / (length - 1)


def window_grid_index(timestamp: float, window_seconds: float, length: int) -> int:
    """The last grid point (a multiple of the step, from time 0) at or before `timestamp`."""
    return int(np.floor(timestamp / window_grid_step(window_seconds, length) + 1e-6))


def time_window_indices(timestamps: Sequence[float], window_seconds: float, length: int) -> np.ndarray:
    """`length` indices into `timestamps` (ascending): the live window over the last `window_seconds`.

    The samples sit on a fixed time grid (multiples of window_seconds / (length - 1) from time 0),
    each taking the latest frame at or before its grid time (the oldest frame when the history is
    shorter). A fixed grid means that consecutive windows share all but their newest samples, so a
    streaming recognizer computes each sampled frame's glimpses once.
    """
    times = np.asarray(timestamps, dtype=np.float64)
    if len(times) == 0:
        raise ValueError("a window needs at least one frame")
    step = window_grid_step(window_seconds, length)
    last = window_grid_index(times[-1], window_seconds, length)
    targets = (last - np.arange(length - 1, -1, -1)) * step
    indices = np.searchsorted(times, targets + 1e-9, side="right") - 1
    return np.clip(indices, 0, len(times) - 1)


def window_grid_frames(timestamps: Sequence[float], window_seconds: float, length: int) -> np.ndarray:
    """One flag per frame: True for the frames that some live window samples (see time_window_indices).

    A replay that knows its timestamps ahead decodes only these images.
    """
    times = np.asarray(timestamps, dtype=np.float64)
    needed = np.zeros(len(times), dtype=bool)
    if len(times) == 0:
        return needed
    step = window_grid_step(window_seconds, length)
    first = window_grid_index(times[0], window_seconds, length)
    grid = np.arange(first, window_grid_index(times[-1], window_seconds, length) + 1) * step
    needed[np.clip(np.searchsorted(times, grid + 1e-9, side="right") - 1, 0, len(times) - 1)] = True
    needed[0] = True  # the oldest frame stands in for grid points before the history starts
    return needed


def pose_array(slots: Sequence[Sequence[Body | None]]) -> np.ndarray:
    """T x 150 float32 camera-space joints of the two slots; absent bodies and non-finite or implausible
    (beyond +-POSE_LIMIT metres) values are 0, so a corrupt file can never overflow the model's float32."""
    pose = np.zeros((len(slots), NUM_BODIES, NUM_JOINTS, 3), dtype=np.float64)
    for t, frame_slots in enumerate(slots):
        for b, body in enumerate(frame_slots[:NUM_BODIES]):
            if body is not None:
                pose[t, b] = body.joints
    with np.errstate(invalid="ignore"):
        pose[~(np.abs(pose) <= POSE_LIMIT)] = 0.0  # NaN and infinities included
    return pose.astype(np.float32).reshape(len(slots), POSE_DIM)


def hand_positions(
    slots: Sequence[Sequence[Body | None]],
    image_sizes: Sequence[tuple[int, int] | None],
    crop_sides: Sequence[Mapping[int, int]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hand centres (T x 4 x 2 colour px), the hand mask (T x 4) and each present hand's crop side (T x 4
    colour px, 0 where absent); image sizes are (width, height); `crop_sides` per frame, body id -> the side
    of its hand crops (CROP_SIZE where not given)."""
    centres = np.zeros((len(slots), NUM_HANDS, 2), dtype=np.float32)
    mask = np.zeros((len(slots), NUM_HANDS), dtype=np.float32)
    sides = np.zeros((len(slots), NUM_HANDS), dtype=np.float32)
    for t, (frame_slots, image_size) in enumerate(zip(slots, image_sizes, strict=True)):
        for h, (b, joint) in enumerate(HAND_SLOTS):
            body = frame_slots[b] if b < len(frame_slots) else None
            if body is None or body.tracking[joint] == NOT_TRACKED:
                continue
            xy = body.color_px[joint]
            side = crop_sides[t].get(body.id, CROP_SIZE) if crop_sides is not None else CROP_SIZE
            if not np.all(np.isfinite(xy)) or not _crop_touches_image(xy, image_size, side):
                continue
            centres[t, h] = xy
            mask[t, h] = 1.0
            sides[t, h] = side
    return centres, mask, sides


def _crop_touches_image(xy: np.ndarray, image_size: tuple[int, int] | None, side: int = CROP_SIZE) -> bool:
    if image_size is None:
        return True
    half = side / 2.0
    width, height = image_size
    return -half < xy[0] < width + half and -half < xy[1] < height + half


def crop_at(image: np.ndarray, xy: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """size x size x 3 uint8 crop centred on `xy` (colour px), black where it leaves the image."""
    crop = np.zeros((size, size, 3), dtype=np.uint8)
    if not np.all(np.isfinite(xy)):
        return crop
    height, width = image.shape[:2]
    x0 = round(float(np.clip(xy[0], -size, width + size))) - size // 2
    y0 = round(float(np.clip(xy[1], -size, height + size))) - size // 2
    sx0, sy0 = max(x0, 0), max(y0, 0)
    sx1, sy1 = min(x0 + size, width), min(y0 + size, height)
    if sx0 < sx1 and sy0 < sy1:
        crop[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
    return crop


def torso_px(body: Body) -> float | None:
    """The colour-pixel length SpineBase -> SpineShoulder of `body` (None when either is not tracked or
    not finite): the body length that `HandCrop`'s "body" rule scales the hand crops with."""
    if any(body.tracking[joint] == NOT_TRACKED for joint in TORSO):
        return None
    length = float(np.linalg.norm(body.color_px[TORSO[1]] - body.color_px[TORSO[0]]))
    return length if np.isfinite(length) else None


def crop_side(body: Body, rule: HandCrop) -> int:
    """The side in colour pixels of the square around each hand of `body` under `rule`."""
    return rule.side_px(None if rule.rule == "fixed" else torso_px(body))


def hand_crop(image: np.ndarray, xy: np.ndarray, side: int) -> np.ndarray:
    """The CROP_SIZE x CROP_SIZE crop the model reads: a `side` px square centred on `xy`, resampled."""
    crop = crop_at(image, xy, side)
    if side == CROP_SIZE:
        return crop
    return cv2.resize(crop, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)


@dataclass(frozen=True, eq=False)
class HandFrame:
    """A frame reduced to what the model reads: its bodies and a crop around every body's hands.

    Cropping is cheap, so a live source crops every frame on arrival and drops the full image;
    which two bodies fill the slots is decided later, per window.
    """

    index: int
    timestamp: float
    bodies: tuple[Body, ...]
    image_size: tuple[int, int] | None  # width, height; None for a frame without an image
    crops: Mapping[tuple[int, int], np.ndarray]  # (body id, hand joint) -> 50 x 50 x 3 uint8 BGR
    captured_at: float = 0.0  # as `Frame.captured_at`
    crop_sides: Mapping[int, int] = field(default_factory=dict)  # body id -> its crops' side in the image


def hand_frame(frame: Frame) -> HandFrame:
    """The hands of every body of `frame`, cropped by the frame's `HandCrop` rule."""
    image = frame.image
    crops: dict[tuple[int, int], np.ndarray] = {}
    sides = {body.id: crop_side(body, frame.hand_crop) for body in frame.bodies}
    if image is not None:
        for body in frame.bodies:
            for joint in (HAND_LEFT, HAND_RIGHT):
                crops[(body.id, joint)] = hand_crop(image, body.color_px[joint], sides[body.id])
    size = None if image is None else (image.shape[1], image.shape[0])
    return HandFrame(frame.index, frame.timestamp, frame.bodies, size, crops, frame.captured_at, sides)


def glimpse_batch(
    crops: np.ndarray, input_size: int, mean: Sequence[float], std: Sequence[float]
) -> np.ndarray:
    """N x 3 x S x S float32 backbone input from N x h x w x 3 uint8 BGR crops (RGB, scaled, normalised)."""
    crops = crops.reshape(-1, *crops.shape[-3:])
    out = np.empty((len(crops), 3, input_size, input_size), dtype=np.float32)
    scale = np.float32(1.0 / 255.0)
    mean32 = np.asarray(mean, dtype=np.float32).reshape(3, 1, 1)
    std32 = np.asarray(std, dtype=np.float32).reshape(3, 1, 1)
    for n, crop in enumerate(crops):
        resized = cv2.resize(crop, (input_size, input_size), interpolation=cv2.INTER_LINEAR)
        rgb = resized[:, :, ::-1].transpose(2, 0, 1).astype(np.float32) * scale
        out[n] = (rgb - mean32) / std32
    return out


def window_inputs(
    frames: Sequence[Frame | HandFrame], body_ids: Sequence[int | None] | None = None
) -> WindowInputs:
    """The raw inputs of the given frames (already sampled: one per model time step).

    `body_ids` fixes the body of each slot (chosen over the whole clip, or by a live `BodySlots`); by
    default they are the main bodies of these frames. Frames without an image give no crops and an
    all-absent hand mask.
    """
    hands = [frame if isinstance(frame, HandFrame) else hand_frame(frame) for frame in frames]
    bodies = [frame.bodies for frame in hands]
    if body_ids is None:
        body_ids = select_main_bodies(bodies, count=NUM_BODIES)
    body_ids = padded(body_ids)
    slots = bodies_by_slot(bodies, body_ids)
    centres, mask, sides = hand_positions(
        slots, [frame.image_size for frame in hands], [frame.crop_sides for frame in hands]
    )
    has_images = all(frame.image_size is not None for frame in hands)
    crops = None
    if has_images:
        crops = np.zeros((len(hands), NUM_HANDS, CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
        for t, h in zip(*np.nonzero(mask), strict=True):
            body, joint = slots[t][HAND_SLOTS[h][0]], HAND_SLOTS[h][1]
            crops[t, h] = hands[t].crops[(body.id, joint)]
    else:
        mask[:] = 0.0
        sides[:] = 0.0
    return WindowInputs(
        pose=pose_array(slots),
        hand_mask=mask,
        hand_px=centres,
        crops=crops,
        body_ids=body_ids,
        hand_side_px=sides,
    )
