"""Faithfulness: removing the most-attended hand against removing the least-attended one, on a model
that reads one hand only, so that the figures can only come out one way."""

from __future__ import annotations

import numpy as np
import pytest

from models.faithfulness import faithfulness_report, hand_removal_drops, removal_masks


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
    from app.faithfulness_note import read_faithfulness
    from export.evaluate_onnx import save_faithfulness
    from models.data import DataError

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
