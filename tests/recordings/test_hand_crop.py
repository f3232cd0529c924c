"""The hand-crop rule: the paper's fixed 50 px for Kinect bodies, scaled with the person's size for
estimated ones (contract.hand_crop), and carried by frames into the crops the model reads."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from sta_hands.contract.errors import RecordingError, UserError
from sta_hands.contract.frame import HAND_LEFT, HAND_RIGHT, NOT_TRACKED, NUM_JOINTS, TRACKED, Body, Frame
from sta_hands.contract.hand_crop import BODY_SCALED_CROP, PAPER_CROP, REFERENCE_TORSO_PX, HandCrop
from sta_hands.contract.inputs import CROP_SIZE, TORSO, crop_at, hand_frame, torso_px, window_inputs
from sta_hands.recordings.ntu.clip import NtuClip
from sta_hands.recordings.ntu.skeleton import read_skeleton

A001 = "S001C001P001R001A001"


def _scaled(body: Body, factor: float) -> Body:
    return replace(body, color_px=body.color_px * factor)


def _first_tracked_frame(clip: NtuClip) -> Frame:
    for frame in clip.frames():
        if frame.bodies and frame.index >= 40:
            return frame
    raise AssertionError("no body in the clip")


def test_the_reference_torso_is_that_of_the_real_ntu_bodies(ntu_samples: Path) -> None:
    lengths = [
        length
        for path in sorted(ntu_samples.glob("*.skeleton"))
        for bodies in read_skeleton(path).frames
        for body in bodies
        if (length := torso_px(body)) is not None
    ]
    assert len(lengths) > 500
    assert abs(np.median(lengths) / REFERENCE_TORSO_PX - 1.0) < 0.1  # a typical NTU body gets ~50 px


def test_the_fixed_rule_is_the_papers_50_px_whatever_the_size() -> None:
    assert PAPER_CROP.side_px(40.0) == PAPER_CROP.side_px(400.0) == PAPER_CROP.side_px(None) == CROP_SIZE
    assert BODY_SCALED_CROP.side_px(REFERENCE_TORSO_PX) == CROP_SIZE
    assert BODY_SCALED_CROP.side_px(2 * REFERENCE_TORSO_PX) == 2 * CROP_SIZE
    assert BODY_SCALED_CROP.side_px(None) == CROP_SIZE  # torso unknown: the paper's size
    assert BODY_SCALED_CROP.side_px(1.0) >= 8  # never a crop of a pixel or two


def test_body_scaled_crops_see_the_same_hand_at_any_image_size(ntu_samples: Path) -> None:
    """The point of the rule: the same person at half the size (a smaller image, a person further away)
    gives nearly the same 50x50 crop; the fixed rule then sees twice the context around the hand."""
    with NtuClip(A001, ntu_samples) as clip:
        frame = _first_tracked_frame(clip)
    image = frame.image
    assert image is not None
    half = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    small_bodies = tuple(_scaled(body, 0.5) for body in frame.bodies)
    differences = {}
    for rule in (PAPER_CROP, BODY_SCALED_CROP):
        big = hand_frame(replace(frame, hand_crop=rule))
        small = hand_frame(replace(frame, image=half, bodies=small_bodies, hand_crop=rule))
        key = (frame.bodies[0].id, HAND_RIGHT)
        assert big.crops[key].shape == small.crops[key].shape == (CROP_SIZE, CROP_SIZE, 3)
        differences[rule.rule] = np.abs(big.crops[key].astype(int) - small.crops[key].astype(int)).mean()
    assert differences["body"] < 15 and differences["fixed"] > 2 * differences["body"], differences


def test_the_crop_side_follows_the_torso_and_is_resampled_to_the_models_size() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    image[200:300, 270:370] = 255  # a 100 px white square around the hand at (320, 250)
    color = np.full((NUM_JOINTS, 2), 100.0)
    color[HAND_LEFT] = color[HAND_RIGHT] = (320.0, 250.0)
    color[TORSO[0]], color[TORSO[1]] = (320.0, 400.0), (320.0, 400.0 - 4 * REFERENCE_TORSO_PX)
    body = Body(7, np.zeros((NUM_JOINTS, 3)), color, np.full(NUM_JOINTS, TRACKED))
    fixed = hand_frame(Frame(0, 0.0, image, (body,)))
    scaled = hand_frame(Frame(0, 0.0, image, (body,), hand_crop=BODY_SCALED_CROP))
    assert fixed.crop_sides == {7: CROP_SIZE} and scaled.crop_sides == {7: 4 * CROP_SIZE}
    assert fixed.crops[(7, HAND_LEFT)].min() == 255  # 50 px inside the square: all white
    white = (scaled.crops[(7, HAND_LEFT)] > 127).mean()  # 200 px: the square is the middle half
    assert scaled.crops[(7, HAND_LEFT)].shape == (CROP_SIZE, CROP_SIZE, 3)
    assert 0.2 < white < 0.3
    expected = cv2.resize(
        crop_at(image, color[HAND_LEFT], 200), (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA
    )
    assert np.array_equal(scaled.crops[(7, HAND_LEFT)], expected)


def test_a_hand_beyond_the_border_is_present_while_its_larger_crop_touches_the_image() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    color = np.full((NUM_JOINTS, 2), 300.0)
    color[HAND_LEFT] = color[HAND_RIGHT] = (680.0, 240.0)  # 40 px right of the image
    color[TORSO[0]], color[TORSO[1]] = (300.0, 400.0), (300.0, 400.0 - 2 * REFERENCE_TORSO_PX)
    body = Body(3, np.zeros((NUM_JOINTS, 3)), color, np.full(NUM_JOINTS, TRACKED))
    fixed = window_inputs([Frame(0, 0.0, image, (body,))])
    scaled = window_inputs([Frame(0, 0.0, image, (body,), hand_crop=BODY_SCALED_CROP)])
    assert fixed.hand_mask[0, :2].tolist() == [0.0, 0.0]  # a 50 px crop misses the image
    assert scaled.hand_mask[0, :2].tolist() == [1.0, 1.0]  # a 100 px one reaches into it


def test_an_untracked_torso_gets_the_papers_size() -> None:
    tracking = np.full(NUM_JOINTS, TRACKED)
    tracking[TORSO[1]] = NOT_TRACKED
    body = Body(1, np.zeros((NUM_JOINTS, 3)), np.full((NUM_JOINTS, 2), 10.0), tracking)
    assert torso_px(body) is None
    frame = Frame(0, 0.0, np.zeros((48, 64, 3), np.uint8), (body,), hand_crop=BODY_SCALED_CROP)
    assert hand_frame(frame).crop_sides == {1: CROP_SIZE}


def test_the_rule_round_trips_through_metadata_and_bad_values_say_where() -> None:
    where = Path("x.jsonl")
    for rule in (PAPER_CROP, BODY_SCALED_CROP, HandCrop("body", 40, 200.0)):
        assert HandCrop.from_metadata(rule.to_metadata(), where, "line 1") == rule
    with pytest.raises(RecordingError, match=r"^x.jsonl:line 1: bad hand_crop .*size_px"):
        HandCrop.from_metadata({"rule": "body", "size_px": "big", "reference_px": 1}, where, "line 1")
    with pytest.raises(RecordingError, match="expected 'fixed' or 'body'"):
        HandCrop.from_metadata({"rule": "wrist", "size_px": 50, "reference_px": 140}, where, "line 1")
    with pytest.raises(UserError, match="must be positive"):
        HandCrop("body", 0)


def test_a_recording_keeps_the_rule_its_frames_were_cropped_by(tmp_path: Path) -> None:
    """Training on a recording crops its hands as its live source did: the rule is in the sidecar."""
    from sta_hands.recordings.own.recording import RecordingWriter, open_recording

    color = np.full((NUM_JOINTS, 2), 30.0)
    body = Body(5, np.zeros((NUM_JOINTS, 3)), color, np.full(NUM_JOINTS, TRACKED))
    image = np.zeros((48, 64, 3), np.uint8)
    for name, rule in (("scaled", BODY_SCALED_CROP), ("fixed", PAPER_CROP)):
        with RecordingWriter(tmp_path / name, fps=30.0) as writer:
            for index in range(3):
                writer.write(Frame(index, index / 30.0, image, (body,), hand_crop=rule))
        with open_recording(tmp_path / name) as recording:
            assert recording.hand_crop == rule
            assert all(frame.hand_crop == rule for frame in recording.frames())
    sidecar = tmp_path / "scaled.jsonl"
    lines = sidecar.read_text().splitlines()
    sidecar.write_text("\n".join([lines[0].replace('"rule": "body"', '"rule": "wrist"'), *lines[1:]]) + "\n")
    with pytest.raises(RecordingError, match=r"scaled.jsonl:line 1: bad hand_crop"):
        open_recording(sidecar)
