"""The pose estimator's geometry and smoothing, without its networks: the rotated region's crop and its
way back to image pixels, the detector's anchors and letterbox, the One Euro filter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sta_hands.recordings.estimate.detector import ANCHORS, DETECTOR_SIZE, detector_input
from sta_hands.recordings.estimate.roi import Roi
from sta_hands.recordings.estimate.smoothing import OneEuroFilter


@pytest.mark.parametrize("rotation", [0.0, 0.4, -1.2, math.pi])
def test_a_point_in_the_crop_maps_back_to_where_it_is_in_the_image(rotation: float) -> None:
    image = np.zeros((480, 640, 3), dtype=np.uint8)
    image[300:304, 400:404] = 255  # a 4 x 4 px dot centred on pixel corner (402, 302)
    roi = Roi(380.0, 260.0, 200.0, rotation)
    crop = roi.crop(image, 256)
    ys, xs = np.nonzero(crop[..., 0] > 60)
    weights = crop[ys, xs, 0].astype(float)
    centre_in_crop = np.array([np.average(xs, weights=weights), np.average(ys, weights=weights)]) + 0.5
    back = roi.to_image(centre_in_crop[None] / 256)[0]
    np.testing.assert_allclose(back, (402.0, 302.0), atol=0.6)


def test_the_region_of_an_upright_body_is_not_turned() -> None:
    roi = Roi.from_alignment(
        np.array([500.0, 600.0]), np.array([500.0, 400.0])
    )  # circle point above the hips
    assert roi.rotation == pytest.approx(0.0)
    assert roi.size == pytest.approx(2 * 200 * 1.25)
    leaning = Roi.from_alignment(np.array([500.0, 600.0]), np.array([600.0, 600.0]))  # lying to the right
    assert leaning.rotation == pytest.approx(math.pi / 2)


def test_anchors_cover_the_detector_input_in_mediapipe_order() -> None:
    assert ANCHORS.shape == (2254, 2)
    np.testing.assert_allclose(ANCHORS[0], ANCHORS[1])  # two anchors per cell on the stride-8 layer
    np.testing.assert_allclose(ANCHORS[0], (0.5 / 28, 0.5 / 28))
    np.testing.assert_allclose(ANCHORS[-1], (6.5 / 7, 6.5 / 7))
    assert ANCHORS.min() > 0 and ANCHORS.max() < 1


def test_the_letterbox_keeps_the_aspect_and_maps_back() -> None:
    image = np.zeros((1080, 1920, 3), dtype=np.uint8)
    image[500:580, 900:1020] = (0, 0, 255)  # red in BGR
    tensor, letterbox = detector_input(image)
    assert tensor.shape == (DETECTOR_SIZE, DETECTOR_SIZE, 3) and tensor.dtype == np.float32
    assert tensor[0, 0].tolist() == [-1.0, -1.0, -1.0]  # black bar
    red = np.argwhere(tensor[..., 0] > 0.5)  # RGB now: the red channel first
    centre_unit = (red.mean(axis=0)[::-1] + 0.5) / DETECTOR_SIZE
    np.testing.assert_allclose(letterbox.to_image(centre_unit), (960, 540), atol=3)


def test_one_euro_smooths_a_still_point_and_follows_a_moving_one() -> None:
    rng = np.random.default_rng(0)
    still, moving = OneEuroFilter(0.05, 80.0), OneEuroFilter(0.05, 80.0)
    noise = rng.normal(0, 2.0, 90)
    smoothed_still = [still(np.array([100 + n]), t / 30, 500.0)[0] for t, n in enumerate(noise)]
    assert np.std(smoothed_still[30:]) < 0.7 * np.std(noise[30:])  # light: MediaPipe's settings
    path = 100 + 15.0 * np.arange(90)  # 450 px/s: about one body size per second
    smoothed_moving = [
        moving(np.array([p + n]), t / 30, 500.0)[0] for t, (p, n) in enumerate(zip(path, noise, strict=True))
    ]
    assert np.max(np.abs(np.array(smoothed_moving[30:]) - path[30:])) < 15.0  # lags less than a frame's step
