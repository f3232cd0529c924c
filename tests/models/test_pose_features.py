"""Pose features computed inside the network: centring, velocity, acceleration, motion."""

from __future__ import annotations

import torch

from sta_hands.models.pose_features import pose_features
from tests.models.conftest import make_inputs, translate_present_bodies


def _bodies(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(*x.shape[:2], 2, 25, 3)  # B x T x 2 x 25 x 3


def test_shapes() -> None:
    derived = pose_features(make_inputs().pose)
    assert derived.pose.shape == (3, 20, 150)
    assert derived.augmented_pose.shape == (3, 20, 450)
    assert derived.motion.shape == (3, 20, 2)


def test_first_body_spine_mid_is_the_origin() -> None:
    derived = pose_features(make_inputs().pose)
    spine = _bodies(derived.pose)[0, :, 0, 1]  # T x 3
    assert torch.equal(spine, torch.zeros_like(spine))


def test_absent_body_stays_exactly_zero_in_every_feature() -> None:
    raw = make_inputs().pose
    derived = pose_features(raw)
    absent = _bodies(raw).abs().sum(dim=(-1, -2)) == 0  # B x T x 2
    assert absent.any()
    for part in derived.augmented_pose.split(150, dim=-1):
        assert torch.all(_bodies(part)[absent] == 0)


def test_second_body_is_the_origin_where_the_first_is_missing() -> None:
    raw = make_inputs().pose
    derived = pose_features(raw)
    # sample 2: body 1 missing in frames 0-2, body 2 present
    spine2 = _bodies(derived.pose)[2, 0:3, 1, 1]
    assert torch.equal(spine2, torch.zeros_like(spine2))


def test_translation_leaves_every_feature_unchanged() -> None:
    raw = make_inputs().pose
    moved = translate_present_bodies(raw, (1.5, -0.4, 2.0))
    for a, b in zip(pose_features(raw), pose_features(moved), strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)  # float32 rounding at ~4 m


def test_constant_velocity_gives_that_velocity_and_no_acceleration() -> None:
    pose = torch.zeros(1, 20, 2, 25, 3)
    pose[..., 0, :, 2] = 3.0  # body 1 stands 3 m away, body 2 absent
    pose[0, :, 0, 11, 0] += 0.01 * torch.arange(20)  # the right hand moves 1 cm per step
    derived = pose_features(pose.reshape(1, 20, 150))
    velocity = _bodies(derived.augmented_pose[..., 150:300])
    acceleration = derived.augmented_pose[..., 300:]
    torch.testing.assert_close(velocity[0, :, 0, 11, 0], torch.full((20,), 0.01))
    velocity[0, :, 0, 11, 0] = 0.0
    assert torch.all(velocity == 0)  # nothing else moves
    torch.testing.assert_close(acceleration, torch.zeros_like(acceleration), atol=1e-6, rtol=0)
    torch.testing.assert_close(derived.motion[0, :, 1], torch.full((20,), 0.01))  # sum |v|
    torch.testing.assert_close(derived.motion[0, :, 0], torch.zeros(20), atol=1e-6, rtol=0)  # sum |a|


def test_a_body_entering_the_view_makes_no_velocity_jump() -> None:
    raw = make_inputs().pose
    derived = pose_features(raw)
    velocity = _bodies(derived.augmented_pose[..., 150:300])
    acceleration = _bodies(derived.augmented_pose[..., 300:])
    # sample 2: body 1 appears at frame 3 (and the origin moves from body 2 to body 1 there)
    assert torch.all(velocity[2, 3] == 0) and torch.all(acceleration[2, 3:5] == 0)
    assert torch.all(velocity[2, 4].abs().sum(dim=(-1, -2)) > 0)
    # body 2 leaves after frame 14
    assert torch.all(velocity[2, 15, 1] == 0) and float(velocity[2, 15, 0].abs().sum()) > 0


def test_motion_is_sum_of_absolute_acceleration_then_velocity() -> None:
    derived = pose_features(make_inputs().pose)
    velocity = derived.augmented_pose[..., 150:300]
    acceleration = derived.augmented_pose[..., 300:]
    torch.testing.assert_close(derived.motion[..., 0], acceleration.abs().sum(-1))
    torch.testing.assert_close(derived.motion[..., 1], velocity.abs().sum(-1))
