"""Arranging bodies for a pose model: the authors' two most moving bodies, filling by repetition, the
window in slot order."""

from __future__ import annotations

import numpy as np

from sta_hands.contract.frame import Body
from sta_hands.contract.pose_clip import (
    clip_joints,
    fill_by_repetition,
    frame_joints,
    most_moving,
    window_joints,
)


def _body(body_id: int, value: float) -> Body:
    joints = np.full((25, 3), value)
    joints[:, 2] += 3.0
    return Body(body_id, joints, np.zeros((25, 2)), np.full(25, 2, np.uint8))


def _frames(values: list[float]) -> np.ndarray:
    person = np.zeros((len(values), 25, 3), np.float32)
    person[:, :, 0] = np.array(values)[:, None]
    return person


def test_empty_tail_repeats_the_clip_from_its_start() -> None:
    filled = fill_by_repetition(_frames([1, 2, 3, 0, 0, 0, 0]), 10)
    assert filled[:, 0, 0].tolist() == [1, 2, 3, 1, 2, 3, 1, 2, 3, 1]


def test_an_empty_first_frame_moves_the_non_empty_frames_to_the_start() -> None:
    filled = fill_by_repetition(_frames([0, 0, 4, 0, 5, 0]), 7)
    assert filled[:, 0, 0].tolist() == [4, 5, 4, 5, 4, 5, 4]


def test_gaps_inside_a_clip_that_starts_full_are_kept_and_nobody_stays_zero() -> None:
    assert fill_by_repetition(_frames([1, 0, 2, 0]), 6)[:, 0, 0].tolist() == [1, 0, 2, 1, 0, 2]
    assert not fill_by_repetition(_frames([0, 0]), 4).any()
    assert len(fill_by_repetition(_frames([1, 2, 3]), 2)) == 3  # a longer clip is kept whole


def test_the_two_most_moving_bodies_come_first() -> None:
    still, small, large = _frames([1, 1, 1, 1]), _frames([1, 2, 1, 2]), _frames([0, 0, 1, 9])
    joints = np.stack([still, small, large])
    assert most_moving(joints).tolist() == [2, 1]


def test_clip_joints_keeps_the_moving_bodies_by_their_place_in_the_frame() -> None:
    frames = [(_body(7, 0.0), _body(8, 0.1 * t), _body(9, 0.5)) for t in range(6)]
    joints = clip_joints(frames, length=8)
    assert joints.shape == (3, 8, 25, 2) and joints.dtype == np.float32
    assert np.allclose(joints[0, :6, 0, 0], 0.1 * np.arange(6))  # the moving body first
    assert np.allclose(joints[0, 6:, 0, 0], [0.0, 0.1])  # then repeated
    assert frame_joints(frames, max_bodies=2).shape == (2, 6, 25, 3)


def test_window_joints_follow_the_slots_and_read_non_finite_joints_as_missing() -> None:
    broken = _body(3, np.nan)
    slots = [(None, _body(2, 1.0)), (broken, None), (_body(1, 2.0), None)]
    joints = window_joints(slots)
    assert joints.shape == (3, 3, 25, 2)
    assert joints[0, :, 0, 0].tolist() == [0.0, 0.0, 2.0] and joints[0, :, 0, 1].tolist() == [1.0, 0.0, 0.0]
    filled = window_joints(slots, length=5)
    assert filled[0, :, 0, 0].tolist() == [2.0] * 5 and filled[0, :, 0, 1].tolist() == [1.0] * 5
