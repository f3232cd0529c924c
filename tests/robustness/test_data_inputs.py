"""Bad data inside valid files: what reaches the model stays sane, attention stays a distribution, and the
GUI draws what it can.

Each case changes a 20-frame window of two people (tests/app/conftest.py's drawn clip, 640x360) the way a
real file can: NaN or huge joints, hands far outside the image or at its very edge, nobody for a while,
extra people, people swapping places. Then:
- `contract.inputs.window_inputs`: a finite, bounded pose; a hand mask of 0/1 that is 0 for every
  absent or unusable hand;
- `app.recognizer.classify_window` with the tiny exported model: finite probabilities; spatial
  attention that sums to 1 over the present hands of a step (0 on absent ones, all 0 with none); a
  temporal attention that sums to 1;
- `app.gui.drawing`: the overlay, the strip and the annotated frame render without raising or warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pytest

from sta_hands.app.gui.drawing import frame_hands, render_annotated, render_overlay, render_strip
from sta_hands.app.recognizer import classify_window
from sta_hands.app.runtime import OnnxModel
from sta_hands.contract.frame import HAND_LEFT, HAND_RIGHT, NOT_TRACKED, NUM_JOINTS, Body, Frame
from sta_hands.contract.inputs import POSE_LIMIT, WindowInputs, window_inputs
from tests.app.conftest import gui_frame
from tests.robustness.registry import Cases

DATA = Cases(
    "Data inside valid files",
    "Each case changes a 20-frame window of two people (640x360) and runs it through the model's input "
    "preparation, the tiny exported model (`classify_window`) and the GUI's drawing.",
)

T, WIDTH, HEIGHT = 20, 640, 360
Frames = list[Frame]


def base() -> Frames:
    return [gui_frame(i, 40, (WIDTH, HEIGHT), people=2) for i in range(T)]


def with_body(frame: Frame, b: int, **changes: object) -> Frame:
    bodies = list(frame.bodies)
    bodies[b] = replace(bodies[b], **changes)
    return replace(frame, bodies=tuple(bodies))


def joints_set(value: float, steps: range = range(T), joint: int | None = None, alternate: bool = False):
    def change(frames: Frames) -> Frames:
        out = []
        for t, frame in enumerate(frames):
            if t in steps:
                joints = frame.bodies[0].joints.copy()
                v = value * (-1) ** t if alternate else value
                joints[slice(None) if joint is None else joint] = v
                frame = with_body(frame, 0, joints=joints)
            out.append(frame)
        return out

    return change


def hand_px(xy: tuple[float, float], b: int = 0, joint: int = HAND_RIGHT):
    def change(frames: Frames) -> Frames:
        out = []
        for frame in frames:
            color = frame.bodies[b].color_px.copy()
            color[joint] = xy
            out.append(with_body(frame, b, color_px=color))
        return out

    return change


def untracked_hand(frames: Frames) -> Frames:
    out = []
    for frame in frames:
        tracking = frame.bodies[1].tracking.copy()
        tracking[HAND_LEFT] = NOT_TRACKED
        out.append(with_body(frame, 1, tracking=tracking))
    return out


def nobody(steps: range):
    return lambda frames: [replace(f, bodies=()) if t in steps else f for t, f in enumerate(frames)]


def furniture(frame: Frame, count: int) -> tuple[Body, ...]:
    """`count` static, wide bodies (a sofa, a table): what Kinect sometimes tracks beside people."""
    extra = []
    for k in range(count):
        joints = np.zeros((NUM_JOINTS, 3))
        joints[:, 0] = np.linspace(-1.5, 1.5, NUM_JOINTS) + 0.1 * k
        joints[:, 1] = -0.6 + 0.01 * np.sin(np.arange(NUM_JOINTS))
        joints[:, 2] = 4.0
        color = np.stack([np.linspace(20, WIDTH - 20, NUM_JOINTS), np.full(NUM_JOINTS, HEIGHT - 30.0)], 1)
        extra.append(Body(900 + k, joints, color, np.full(NUM_JOINTS, 2)))
    return tuple(extra)


def crowd(extra: int, first: bool = False):
    def change(frames: Frames) -> Frames:
        return [
            replace(
                f, bodies=(*furniture(f, extra), *f.bodies) if first else (*f.bodies, *furniture(f, extra))
            )
            for f in frames
        ]

    return change


def swapping(frames: Frames) -> Frames:
    return [replace(f, bodies=f.bodies[::-1]) if t % 2 else f for t, f in enumerate(frames)]


def same_id_twice(frames: Frames) -> Frames:
    return [replace(f, bodies=(f.bodies[0], replace(f.bodies[1], id=f.bodies[0].id))) for f in frames]


def without_images(frames: Frames) -> Frames:
    return [replace(f, image=None) for f in frames]


def tiny_images(frames: Frames) -> Frames:
    return [replace(f, image=np.full((6, 8, 3), 90, np.uint8)) for f in frames]


@dataclass(frozen=True)
class Change:
    make: Callable[[Frames], Frames]
    check: Callable[[WindowInputs, WindowInputs], None] = lambda inputs, normal: None


def hands_absent(*hands: int, steps: slice = slice(None)) -> Callable[[WindowInputs, WindowInputs], None]:
    def check(inputs: WindowInputs, normal: WindowInputs) -> None:
        assert (inputs.hand_mask[steps][:, list(hands)] == 0).all()
        others = [h for h in range(4) if h not in hands]
        assert (inputs.hand_mask[steps][:, others] == normal.hand_mask[steps][:, others]).all()

    return check


def same_pose_as_normal(inputs: WindowInputs, normal: WindowInputs) -> None:
    assert np.array_equal(inputs.pose, normal.pose) and np.array_equal(inputs.hand_mask, normal.hand_mask)


def pose_zero_where_changed(steps: range, joint: int | None = None):
    def check(inputs: WindowInputs, normal: WindowInputs) -> None:
        pose = inputs.pose.reshape(T, 2, NUM_JOINTS, 3)
        changed = pose[list(steps), 0] if joint is None else pose[list(steps), 0, joint]
        assert (changed == 0).all()

    return check


def hand_present_with_black_padding(hand: int):
    def check(inputs: WindowInputs, normal: WindowInputs) -> None:
        assert (inputs.hand_mask[:, hand] == 1).all()
        assert inputs.crops is not None and (inputs.crops[:, hand] == 0).all(axis=-1).any()

    return check


def nothing_present(inputs: WindowInputs, normal: WindowInputs) -> None:
    assert (inputs.hand_mask == 0).all()


DATA.add(
    "nan-joints",
    "NaN camera-space joints for person 1 in 8 of 20 frames",
    "those values enter the model as 0; the hands (placed by their colour pixels) stay present",
    Change(joints_set(np.nan, range(4, 12)), pose_zero_where_changed(range(4, 12))),
)
DATA.add(
    "infinite-joints",
    "+infinity in one joint of person 1, every frame",
    "that joint enters the model as 0",
    Change(joints_set(np.inf, joint=HAND_RIGHT), pose_zero_where_changed(range(T), HAND_RIGHT)),
)
DATA.add(
    "huge-joints",
    "a hand joint at +-3e38 m, alternating frame to frame (finite, near float32's largest)",
    "enters the model as 0 and the body selection ignores it (values beyond +-100 m are corrupt data); "
    "before the fix the model's velocity overflowed and every output was NaN",
    Change(joints_set(3e38, joint=HAND_RIGHT, alternate=True), pose_zero_where_changed(range(T), HAND_RIGHT)),
)
DATA.add(
    "nan-hand-pixels",
    "NaN colour pixels for person 1's right hand",
    "that hand is absent (mask 0), the other three are unchanged; the GUI draws no box for it",
    Change(hand_px((np.nan, np.nan)), hands_absent(1)),
)
DATA.add(
    "hand-far-outside-the-image",
    "person 1's right hand at (1e12, -1e12) px, person 2's left at (1e30, 1e30) px",
    "both absent (mask 0); the GUI skips them (OpenCV got coordinates it could not take before the fix)",
    Change(
        lambda f: hand_px((1e30, 1e30), b=1, joint=HAND_LEFT)(hand_px((1e12, -1e12))(f)), hands_absent(1, 2)
    ),
)
DATA.add(
    "hand-just-outside-the-image",
    "person 1's right hand 24 px beyond the right edge (its 50 px crop still overlaps the image)",
    "present, its crop padded with black",
    Change(hand_px((WIDTH + 24, HEIGHT / 2)), hand_present_with_black_padding(1)),
)
DATA.add(
    "hand-at-the-corner",
    "person 1's right hand exactly on the top-left pixel (0, 0)",
    "present, its crop padded with black on two sides",
    Change(hand_px((0.0, 0.0)), hand_present_with_black_padding(1)),
)
DATA.add(
    "hand-crop-misses-the-image",
    "person 1's right hand 26 px beyond the bottom edge (its crop misses the image)",
    "absent (mask 0)",
    Change(hand_px((WIDTH / 2, HEIGHT + 26)), hands_absent(1)),
)
DATA.add(
    "hand-not-tracked",
    "person 2's left hand with tracking state 0",
    "absent (mask 0)",
    Change(untracked_hand, hands_absent(2)),
)
DATA.add(
    "nobody-for-a-while",
    "no body at all in frames 5 to 14",
    "pose and mask 0 in those steps; attention all zero there, a distribution elsewhere",
    Change(nobody(range(5, 15)), hands_absent(0, 1, 2, 3, steps=slice(5, 15))),
)
DATA.add(
    "nobody-at-all",
    "20 frames without any body",
    "pose and mask all 0; no class (status `no person`, the head is not run), no attention drawn",
    Change(nobody(range(T)), nothing_present),
)
DATA.add(
    "three-bodies",
    "a third, static and wide body (furniture) in every frame",
    "the two people are kept: the same inputs as without it",
    Change(crowd(1), same_pose_as_normal),
)
DATA.add(
    "six-bodies-listed-first",
    "four pieces of furniture listed before the two people (six bodies, Kinect's maximum)",
    "the two people are kept: the same inputs as without them",
    Change(crowd(4, first=True), same_pose_as_normal),
)
DATA.add(
    "bodies-swap-order",
    "the two people listed in the opposite order every other frame",
    "slots follow tracking ids: the same inputs as without the swaps",
    Change(swapping, same_pose_as_normal),
)
DATA.add(
    "same-id-twice",
    "both people carrying the same tracking id",
    "one body per slot, no error; attention a distribution",
    Change(same_id_twice),
)
DATA.add(
    "no-images",
    "skeleton-only frames (no colour image)",
    "every hand absent (no crop to look at); the pose is used; the GUI draws skeletons on a dark canvas",
    Change(without_images, nothing_present),
)
DATA.add(
    "tiny-images",
    "8x6 px colour images with the skeleton's 640x360 pixel coordinates",
    "hands whose crops miss the image are absent; no error",
    Change(tiny_images),
)


@pytest.fixture(scope="module")
def model(tiny_model_folder) -> OnnxModel:
    return OnnxModel(tiny_model_folder)


@DATA.parametrize()
def test_bad_data_gives_sane_inputs_attention_and_drawings(case, model: OnnxModel) -> None:
    change: Change = case.data
    normal = base()
    frames = change.make(normal)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow or invalid cast on the way
        inputs = window_inputs(frames)
    assert inputs.pose.dtype == np.float32 and inputs.pose.shape == (T, 150)
    assert np.isfinite(inputs.pose).all() and (np.abs(inputs.pose) <= POSE_LIMIT).all()
    assert set(np.unique(inputs.hand_mask)) <= {0.0, 1.0}
    change.check(inputs, window_inputs(normal))

    prediction = classify_window(model, frames)
    assert np.array_equal(prediction.hand_mask, inputs.hand_mask)
    for values in (prediction.probabilities, prediction.spatial_attention, prediction.temporal_attention):
        assert np.isfinite(values).all()
    assert prediction.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    if prediction.classified:
        assert prediction.temporal_attention.sum() == pytest.approx(1.0, abs=1e-5)
    else:  # nobody in the window: no class, and no attention to show
        assert not inputs.pose.any() and prediction.top() == [] and not prediction.temporal_attention.any()
    spatial, mask = prediction.spatial_attention, prediction.hand_mask
    assert (spatial[mask == 0] == 0).all() and (spatial >= 0).all()
    sums = spatial.sum(axis=1)
    present = mask.any(axis=1)
    assert np.allclose(sums[present], 1.0, atol=1e-5) and (sums[~present] == 0).all()

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for frame in frames[::4]:
            for shown in (prediction, None):
                assert render_overlay(frame, shown, (480, 270)).shape[2] == 3
                assert render_strip(frame, shown, 480).shape[1] == 480
                assert render_annotated(frame, shown, 480).shape[1] == 480
                assert len(frame_hands(frame, shown)) == 4
