"""Faithfulness: removing the most-attended hand against removing the least-attended one, on a model
that reads one hand only, so that the figures can only come out one way; and a pose model's most relevant
joints held still against random ones, on a model that reads one joint only and on one that reads none."""

from __future__ import annotations

import numpy as np
import pytest

from sta_hands.contract.frame import JOINT
from sta_hands.models.faithfulness import (
    chosen_joints,
    faithfulness_report,
    hand_removal_drops,
    hold_joints,
    joint_holding_drops,
    removal_masks,
)


def reads_hand_zero(features: np.ndarray, hand_mask: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """B x 2 probabilities: class 0's logit is the sum over time of hand 0's first feature, if present."""
    logit = (features[..., 0, 0] * hand_mask[..., 0]).sum(axis=1)
    return np.stack([1 / (1 + np.exp(-logit)), 1 / (1 + np.exp(logit))], axis=1)


def _windows() -> tuple[np.ndarray, ...]:
    steps = 3
    features = np.ones((3, steps, 4, 2), np.float32)
    mask = np.zeros((3, steps, 4), np.float32)
    mask[:2, :, :2] = 1  # windows 0 and 1: both hands of person 1
    mask[2, :, 0] = 1  # window 2: one hand, nothing to choose between
    spatial = np.zeros((3, steps, 4), np.float32)
    spatial[0, :, :2] = [0.9, 0.1]  # window 0 looks at hand 0, the one the model reads
    spatial[1, :, :2] = [0.2, 0.8]  # window 1 looks at hand 1, which the model ignores
    spatial[2, :, 0] = 1.0
    return features, mask, np.zeros((3, steps, 150), np.float32), spatial


def test_removing_the_hand_the_model_reads_drops_its_probability_and_the_other_does_not() -> None:
    tally = hand_removal_drops(reads_hand_zero, *_windows())
    whole = 1 / (1 + np.exp(-3.0))  # three steps of hand 0's feature 1
    # Window 0: the attended hand is the one read (drop to 0.5), the least attended changes nothing;
    # window 1 the other way round; window 2 has one hand and is not counted.
    np.testing.assert_allclose(tally.attended, [whole - 0.5, 0.0], atol=1e-6)
    np.testing.assert_allclose(tally.least_attended, [0.0, whole - 0.5], atol=1e-6)
    report = faithfulness_report(tally)
    assert report == pytest.approx(
        {
            "removed": "hands",
            "stream": "rgb",
            "windows": 2,
            "attended_drop_larger": 0.5,
            "mean_drop_attended": (whole - 0.5) / 2,
            "mean_drop_least_attended": (whole - 0.5) / 2,
        }
    )


def test_only_steps_with_two_present_hands_told_apart_lose_a_hand() -> None:
    # step 1: one hand; step 3: two hands the attention does not tell apart (a uniform attention)
    mask = np.array([[[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 1], [0, 0, 1, 1]]], np.float32)
    spatial = np.array([[[0.3, 0.7, 0, 0], [1.0, 0, 0, 0], [0, 0.5, 0.2, 0.3], [0, 0, 0.5, 0.5]]], np.float32)
    most, least = removal_masks(spatial, mask)
    np.testing.assert_array_equal(most[0], [[0, 1, 0, 0], [0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(least[0], [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]])


def test_no_window_with_two_hands_gives_no_figures() -> None:
    features, mask, pose, spatial = (a[2:] for a in _windows())
    assert faithfulness_report(hand_removal_drops(reads_hand_zero, features, mask, pose, spatial)) is None


def test_the_figures_are_saved_beside_the_model_for_the_explain_dialog(tmp_path) -> None:
    from sta_hands.app.faithfulness_note import read_faithfulness
    from sta_hands.export.evaluate_onnx import save_faithfulness
    from sta_hands.models.data import DataError

    figures = faithfulness_report(hand_removal_drops(reads_hand_zero, *_windows()))
    report = {"faithfulness": figures, "data": "/somewhere", "split": "cs", "clips": 3, "views": 5, "seed": 0}
    save_faithfulness(tmp_path, report, "the test windows")
    saved = read_faithfulness(tmp_path)
    assert saved is not None and {key: saved[key] for key in figures} == figures
    assert saved["measured_on"] == {
        "data": "the test windows",
        "split": "cs",
        "clips": 3,
        "views": 5,
        "seed": 0,
    }
    with pytest.raises(DataError, match="no faithfulness figures"):
        save_faithfulness(tmp_path, {**report, "faithfulness": None})


READ_JOINT = JOINT["HandRight"]


def reads_one_joint(pose: np.ndarray) -> np.ndarray:
    """B x 2 probabilities: class 0's logit grows with how much person 1's right hand moves (x over time)."""
    moving = pose.reshape(*pose.shape[:2], 2, 25, 3)[:, :, 0, READ_JOINT, 0].std(axis=1)
    return np.stack([1 / (1 + np.exp(-10 * moving)), 1 / (1 + np.exp(10 * moving))], axis=1)


def reads_no_joint(pose: np.ndarray) -> np.ndarray:
    return np.tile([0.7, 0.3], (len(pose), 1))


def _pose_windows() -> tuple[np.ndarray, np.ndarray]:
    """Three windows of person 1 alone, every joint moving; the relevance on the read joint (window 0), on
    the left hand, which the model ignores (window 1), and nowhere (window 2: not counted)."""
    rng = np.random.default_rng(3)
    pose = np.zeros((3, 8, 2, 25, 3), np.float32)
    pose[:, :, 0] = rng.normal(size=(3, 8, 25, 3))
    relevance = np.zeros((3, 8, 2, 25), np.float32)
    relevance[:, :, 0] = 0.001  # every joint of person 1 a little: the top five are decided by the rest
    relevance[0, :, 0, READ_JOINT] = 1.0
    relevance[1, :, 0, JOINT["HandLeft"]] = 1.0
    relevance[2] = 0.0
    return pose.reshape(3, 8, 150), relevance


def test_holding_the_joint_the_model_reads_drops_its_probability_and_random_others_less() -> None:
    pose, relevance = _pose_windows()
    tally = joint_holding_drops(reads_one_joint, pose, relevance, held=5, draws=4, seed=0)
    whole = reads_one_joint(pose[:2])[:, 0]
    # Window 0 holds the read joint (down to 0.5); its random joints are drawn from the others: no drop.
    # Window 1 holds the left hand and four more: no drop; random draws may take the read joint.
    np.testing.assert_allclose(tally.attended, [whole[0] - 0.5, 0.0], atol=1e-6)
    assert tally.least_attended[0] == pytest.approx(0.0, abs=1e-6) and tally.least_attended[1] >= 0.0
    report = faithfulness_report(tally)
    assert report is not None and report["removed"] == "joints" and report["stream"] == "pose"
    assert report["windows"] == 2 and report["attended_drop_larger"] == 0.5
    assert report["joints_held"] == 5 and report["random_draws"] == 4


def test_a_model_that_reads_no_joint_gives_no_difference() -> None:
    report = faithfulness_report(joint_holding_drops(reads_no_joint, *_pose_windows()))
    assert report is not None and report["windows"] == 2
    assert report["attended_drop_larger"] == 0.0
    assert report["mean_drop_attended"] == report["mean_drop_least_attended"] == 0.0


def test_held_joints_stay_at_their_mean_where_their_person_is_present() -> None:
    pose = np.zeros((4, 2, 25, 3), np.float32)
    pose[:, 0] = np.arange(1, 5, dtype=np.float32)[:, None, None]  # person 1 moves along every axis
    pose[1:3, 1] = np.arange(2, dtype=np.float32)[:, None, None] + 5  # person 2 in frames 1 and 2 only
    held = np.zeros((2, 25), bool)
    held[:, READ_JOINT] = True
    still = hold_joints(pose.reshape(4, 150), held).reshape(4, 2, 25, 3)
    np.testing.assert_array_equal(still[:, 0, READ_JOINT], np.full((4, 3), 2.5))
    np.testing.assert_array_equal(still[:, 1, READ_JOINT], [[0] * 3, [5.5] * 3, [5.5] * 3, [0] * 3])
    others = np.ones(25, bool)
    others[READ_JOINT] = False
    np.testing.assert_array_equal(still[:, :, others], pose[:, :, others])


def test_random_joints_are_other_joints_of_people_in_view() -> None:
    relevance = np.zeros((2, 2, 25), np.float32)
    relevance[:, 0, :5] = 1.0
    relevance[:, 1, :] = 0.5  # relevance on person 2, who is not in view, is never chosen
    chosen = chosen_joints(relevance, np.array([True, False]), np.random.default_rng(0), 5, 10)
    assert chosen is not None
    most, random = chosen
    assert most[0, :5].all() and most.sum() == 5
    assert (random.sum(axis=(1, 2)) == 5).all() and not (random & most).any() and not random[:, 1].any()
    nothing = np.zeros_like(relevance)
    assert chosen_joints(nothing, np.array([True, False]), np.random.default_rng(0), 5, 1) is None
