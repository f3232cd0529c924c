from __future__ import annotations

import numpy as np
import pytest

from sta_hands.contract.frame import HAND_LEFT, HAND_RIGHT, NUM_JOINTS, TRACKED, Body, Frame
from sta_hands.contract.inputs import (
    CROP_SIZE,
    crop_at,
    glimpse_batch,
    hand_frame,
    segment_indices,
    time_window_indices,
    window_inputs,
)
from sta_hands.recordings.ntu.clip import NtuClip


def _body(
    body_id: int, hand_left: tuple[float, float], hand_right: tuple[float, float], x: float = 0.0
) -> Body:
    joints = np.zeros((NUM_JOINTS, 3))
    joints[:, 0] = x
    joints[:, 1] = np.linspace(-0.8, 0.8, NUM_JOINTS)
    joints[:, 2] = 3.0
    color = np.full((NUM_JOINTS, 2), 500.0)
    color[HAND_LEFT], color[HAND_RIGHT] = hand_left, hand_right
    return Body(body_id, joints, color, np.full(NUM_JOINTS, TRACKED))


def _image(width: int = 320, height: int = 240) -> np.ndarray:
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 0] = np.arange(width, dtype=np.uint8)[None, :]
    image[..., 1] = np.arange(height, dtype=np.uint8)[:, None]
    return image


def test_segment_indices_cover_the_clip_in_order() -> None:
    fixed = segment_indices(100, 20)
    assert len(fixed) == 20 and fixed[0] == 2 and fixed[-1] == 97
    drawn = segment_indices(100, 20, np.random.default_rng(0))
    assert np.all(np.diff(drawn) > 0) and drawn.min() >= 0 and drawn.max() <= 99
    assert np.all(drawn // 5 == np.arange(20))  # one per segment
    assert list(segment_indices(5, 20)) == sorted(segment_indices(5, 20))  # short clips repeat frames


def test_time_window_takes_the_last_seconds_evenly() -> None:
    times = np.arange(90) / 30.0
    picked = time_window_indices(times, window_seconds=1.9, length=20)  # grid step 0.1 s
    assert list(picked) == list(range(30, 88, 3))  # 1.0 s ... 2.9 s
    later = time_window_indices(np.arange(93) / 30.0, window_seconds=1.9, length=20)
    assert list(later[:-1]) == list(picked[1:])  # the next window shares 19 samples
    assert list(time_window_indices(times[:5], 1.9, 4)) == [0, 0, 0, 0]  # shorter than the window


def test_crop_is_centred_and_padded_with_black_at_the_border() -> None:
    image = _image()
    crop = crop_at(image, np.array([100.0, 50.0]))
    assert crop.shape == (CROP_SIZE, CROP_SIZE, 3)
    assert crop[25, 25, 0] == 100 and crop[25, 25, 1] == 50
    corner = crop_at(image, np.array([0.0, 0.0]))
    assert np.all(corner[:25, :25] == 0) and corner[30, 30, 0] == 5
    assert not crop_at(image, np.array([np.nan, 1.0])).any()


def test_window_inputs_shapes_mask_and_pose_of_an_absent_second_body() -> None:
    frames = [Frame(i, i / 30, _image(), (_body(7, (40.0, 60.0), (-100.0, 60.0)),)) for i in range(20)]
    inputs = window_inputs(frames)
    assert inputs.pose.shape == (20, 150) and inputs.pose.dtype == np.float32
    assert np.all(inputs.pose[:, 75:] == 0)
    assert inputs.hand_mask[0].tolist() == [1, 0, 0, 0]  # right hand outside the image, no person 2
    assert inputs.crops is not None and inputs.crops.shape == (20, 4, CROP_SIZE, CROP_SIZE, 3)
    assert inputs.body_ids == (7, None)


def test_two_bodies_fill_the_slots_and_skeleton_only_frames_mask_all_hands() -> None:
    bodies = (_body(1, (40.0, 60.0), (80.0, 60.0), x=-0.5), _body(2, (200.0, 60.0), (240.0, 60.0), x=0.5))
    inputs = window_inputs([Frame(i, i / 30, _image(), bodies) for i in range(20)])
    assert inputs.hand_mask.min() == 1
    assert inputs.crops[0, 2, 25, 25, 0] == 200  # left hand of person 2
    no_image = window_inputs([Frame(i, i / 30, None, bodies) for i in range(20)])
    assert no_image.crops is None and no_image.hand_mask.max() == 0
    assert np.any(no_image.pose[:, 75:] != 0)


def test_hand_frames_give_the_same_inputs_as_frames() -> None:
    frames = [Frame(i, i / 30, _image(), (_body(3, (40.0 + i, 60.0), (80.0, 70.0)),)) for i in range(20)]
    direct, via_hands = window_inputs(frames), window_inputs([hand_frame(f) for f in frames])
    assert np.array_equal(direct.crops, via_hands.crops)
    assert np.array_equal(direct.pose, via_hands.pose)


def test_glimpse_batch_is_rgb_resized_and_normalised() -> None:
    crops = np.zeros((2, CROP_SIZE, CROP_SIZE, 3), np.uint8)
    crops[..., 2] = 255  # red in BGR
    batch = glimpse_batch(crops, 32, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    assert batch.shape == (2, 3, 32, 32) and batch.dtype == np.float32
    assert np.allclose(batch[:, 0], 1.0) and np.allclose(batch[:, 1:], -1.0)


def test_real_clip_hands_are_inside_and_present(ntu_samples) -> None:
    with NtuClip(ntu_samples / "S001C001P001R001A001.skeleton") as clip:
        frames = [frame for frame in clip.frames() if frame.index % 5 == 0][:20]
    inputs = window_inputs(frames)
    assert inputs.hand_mask[:, :2].min() == 1 and inputs.hand_mask[:, 2:].max() == 0
    assert inputs.crops[:, :2].mean() > 20  # real pixels, not padding


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_joints_become_zero_in_the_pose(bad: float) -> None:
    body = _body(1, (40.0, 60.0), (80.0, 60.0))
    joints = body.joints.copy()
    joints[3, 0] = bad
    broken = Body(1, joints, body.color_px, body.tracking)
    inputs = window_inputs([Frame(0, 0.0, _image(), (broken,))])
    assert np.isfinite(inputs.pose).all()
